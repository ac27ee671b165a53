"""docqa engine: ingest documents into a local library and answer questions with citations.

Qt-free by design (the desktop app depends on this package, never the reverse), and
offline by construction: :mod:`rag.offline` runs before anything else is imported.
"""

from rag import offline as _offline  # noqa: F401  (side effect: offline switches)

__version__ = "0.1.0"
