"""Watched folders: files added, changed, moved or deleted there reach the open library
(through the engine's sync, :mod:`rag.ingest.sync`)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

# inotify allows 8,192 watches per user by default and other programs need some: past
# this many, files are not watched one by one (a file saved in place is then seen at the
# next change of its folder, or the next sync), but every sub-folder still is.
MAX_WATCHED_FILES = 4000


class FolderWatcher(QObject):
    """Emits ``changed(folder)`` with the watched folder once things settle (2 s after
    the last change anywhere inside it: editors write a file in several steps)."""

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None, delay_ms: int = 2000) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._on_path_changed)
        self._watcher.fileChanged.connect(self._on_path_changed)
        self._roots: list[str] = []
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._on_timeout)

    def watch(self, folders: list[str]) -> None:
        watched = self._watcher.directories() + self._watcher.files()
        if watched:
            self._watcher.removePaths(watched)
        self._roots = [str(Path(f)) for f in folders if Path(f).is_dir()]
        self._add_tree(self._roots)

    def folders(self) -> list[str]:
        return list(self._roots)

    def _add_tree(self, folders: list[str]) -> None:
        """Watch every sub-folder (a change deep inside is still a change) and, up to a
        limit, every file (a file saved in place does not change its folder)."""
        dirs: list[str] = []
        files: list[str] = []
        budget = MAX_WATCHED_FILES - len(self._watcher.files())
        for root in folders:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                dirs.append(dirpath)
                for fn in filenames:
                    if not fn.startswith(".") and len(files) < budget:
                        files.append(os.path.join(dirpath, fn))
        new = set(dirs + files) - set(self._watcher.directories()) - set(self._watcher.files())
        if new:
            self._watcher.addPaths(sorted(new))

    def _root_of(self, path: str) -> str | None:
        return next((r for r in self._roots if path == r or path.startswith(r.rstrip(os.sep) + os.sep)), None)

    def _on_path_changed(self, path: str) -> None:
        root = self._root_of(path)
        if root is None:
            return
        self._pending.add(root)
        self._timer.start()

    def _on_timeout(self) -> None:
        pending, self._pending = self._pending, set()
        # New files and sub-folders get their own watches; a file replaced by a rename
        # (how many editors save) has lost its watch and gets it back here.
        self._add_tree(sorted(pending))
        for folder in sorted(pending):
            self.changed.emit(folder)
