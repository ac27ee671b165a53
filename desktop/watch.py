"""Watched folders: new or changed files there are offered to the open library."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal


class FolderWatcher(QObject):
    """Emits ``changed(folder)`` once things settle (2 s after the last change)."""

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None, delay_ms: int = 2000) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._on_directory_changed)
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._on_timeout)

    def watch(self, folders: list[str]) -> None:
        current = self._watcher.directories()
        if current:
            self._watcher.removePaths(current)
        existing = [f for f in folders if Path(f).is_dir()]
        if existing:
            self._watcher.addPaths(existing)

    def folders(self) -> list[str]:
        return list(self._watcher.directories())

    def _on_directory_changed(self, folder: str) -> None:
        self._pending.add(folder)
        self._timer.start()

    def _on_timeout(self) -> None:
        pending, self._pending = self._pending, set()
        for folder in sorted(pending):
            self.changed.emit(folder)
