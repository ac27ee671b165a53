"""docqa desktop: the PySide6 app on top of the Qt-free engine in :mod:`rag`."""

import rag  # noqa: F401  (offline switches before anything heavy)
from desktop import pyside_fix  # noqa: F401  (before any Qt call: see its docstring)
