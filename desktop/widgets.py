"""Small widget factories shared by the panels."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QPushButton


def button(text: str, name: str, tip: str = "", slot: Callable[[], object] | None = None,
           width: int = 0) -> QPushButton:
    """A push button with its accessible name (what a screen reader says), tooltip and slot."""
    b = QPushButton(text)
    b.setAccessibleName(name)
    if tip:
        b.setToolTip(tip)
    if slot is not None:
        b.clicked.connect(slot)
    if width:
        b.setFixedWidth(width)
    return b
