"""docqa engine: ingest documents into a local library and answer questions with citations.

Qt-free by design (the desktop app depends on this package, never the reverse), and
offline by construction: :mod:`rag.offline` runs before anything else is imported, and
:mod:`rag.egress` then refuses any connection off this computer for the whole process;
:mod:`rag.hygiene` keeps freed memory (which native code may write to disk) clean.
"""

from rag import offline as _offline  # noqa: F401, I001  (side effect: offline switches, first)
from rag import egress as _egress
from rag import hygiene as _hygiene

_egress.install()
_hygiene.scrub_freed_memory()

__version__ = "0.1.0"
