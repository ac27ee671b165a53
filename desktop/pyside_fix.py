"""Guard against PySide6 6.12.0's reference-count bug on Python 3.11.

In the PySide6 6.12.0 wheels, a call to a Qt method that returns ``void`` drops one
reference to ``None``, and ``SignalInstance.emit()`` drops one to ``True`` (measured:
100 calls of ``processEvents()`` leave ``None`` with 100 fewer references). On Python
3.12+ these singletons are immortal and nothing happens; on 3.11 the count reaches zero
after some hours of use (every streamed token makes several such calls) and the
interpreter aborts with "none_dealloc" or "bool_dealloc". Where a probe shows the bug,
the three singletons are given a reference count no session can exhaust, which is what
Python 3.12 does for them anyway.
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 40


def _void_call_drops_none() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - 8


def apply() -> bool:
    """Make ``None``, ``True`` and ``False`` effectively immortal if PySide6 needs it;
    returns whether it did."""
    if sys.version_info >= (3, 12) or not _void_call_drops_none():
        return False
    for singleton in (None, True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt is the first field
        refcnt.value += _HEADROOM
    return True


APPLIED = apply()
