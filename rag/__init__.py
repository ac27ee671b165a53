"""docqa engine: ingest documents into a local library and answer questions with citations.

Qt-free by design (the desktop app depends on this package, never the reverse), and
offline by construction: :mod:`rag.privacy.offline` runs before anything else is imported, and
:mod:`rag.privacy.egress` then refuses any connection off this computer for the whole process;
:mod:`rag.privacy.hygiene` keeps freed memory (which native code may write to disk) clean.
"""

from rag.privacy import offline as _offline  # noqa: F401, I001  (side effect: offline switches, first)
from rag.privacy import egress as _egress
from rag.privacy import hygiene as _hygiene

_egress.install()
_hygiene.scrub_freed_memory()

__version__ = "0.1.0"
