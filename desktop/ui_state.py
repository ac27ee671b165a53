"""Window geometry and splitter sizes, kept apart from preferences (QSettings is fine here)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter


class UiState:
    """The only place that names QSettings keys."""

    GEOMETRY = "window/geometry"
    STATE = "window/state"
    SPLITTER = "splitters/{}"

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qs = settings or QSettings("docqa", "docqa-desktop")

    def restore(self, window: QMainWindow, splitters: dict[str, QSplitter]) -> None:
        geometry = self.qs.value(self.GEOMETRY)
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        state = self.qs.value(self.STATE)
        if isinstance(state, QByteArray):
            window.restoreState(state)
        for name, splitter in splitters.items():
            sizes = self.qs.value(self.SPLITTER.format(name))
            if isinstance(sizes, QByteArray):
                splitter.restoreState(sizes)

    def save(self, window: QMainWindow, splitters: dict[str, QSplitter]) -> None:
        self.qs.setValue(self.GEOMETRY, window.saveGeometry())
        self.qs.setValue(self.STATE, window.saveState())
        for name, splitter in splitters.items():
            self.qs.setValue(self.SPLITTER.format(name), splitter.saveState())
        self.qs.sync()
