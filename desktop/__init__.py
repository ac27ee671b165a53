"""docqa desktop: the PySide6 app on top of the Qt-free engine in :mod:`rag`."""

import rag  # noqa: F401  (offline switches before anything heavy)
