"""The main window's part that adds and removes documents: drops, the file dialogs, the
queue of drops made while an ingest runs, syncs with watched folders, and their progress.

A base class of :class:`desktop.main_window.MainWindow`, which builds the widgets used here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from desktop.jobs import Job

if TYPE_CHECKING:
    from desktop.documents_panel import DocumentsPanel
    from desktop.engine import Engine
    from desktop.library_notices import LibraryNotices
    from desktop.library_panel import LibraryPanel
    from desktop.review_view import ReviewPanel

DEFAULT_LIBRARY = "My documents"


class DropsWindow(QMainWindow):
    ingest_started = Signal(object)  # Job

    # Built by MainWindow.
    engine: Engine
    library: str
    documents: DocumentsPanel
    libraries: LibraryPanel
    review: ReviewPanel
    notices: LibraryNotices
    queued: list[tuple[str, list[Path]]]  # files dropped while an ingest runs, in order
    sync_queued: list[tuple[str, Path]]  # watched folders that changed while a job ran
    _last_done: int

    @property
    def read_only(self) -> bool:
        return self.notices.read_only

    def refresh_documents(self) -> None:
        raise NotImplementedError  # MainWindow's

    # -- adding and removing documents -------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: object) -> None:
        event.acceptProposedAction()  # type: ignore[attr-defined]

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    def add_paths(self, paths: list[Path]) -> Job | None:
        """Ingest ``paths`` into the selected library, or queue them behind a running ingest."""
        if self.read_only:
            self.statusBar().showMessage("Nothing was added: this library is read-only here.", 8000)
            return None
        if not self.library:
            self.libraries.create_library(DEFAULT_LIBRARY)  # selects it
        if self.documents.job is not None:
            self.queued.append((self.library, list(paths)))
            self.documents.set_queued(self.queued_count())
            self.statusBar().showMessage(
                f"{len(paths)} more item{'s' if len(paths) != 1 else ''} will be added when the current files are done.", 6000)
            return None
        try:
            return self._start_ingest(self.library, paths)
        except Exception as err:  # noqa: BLE001 (no passphrase given, damaged, busy: said, nothing added)
            self.notices.open_failed(self.library, err)
            return None

    def queued_count(self) -> int:
        return sum(len(paths) for _, paths in self.queued)

    def _start_ingest(self, library: str, paths: list[Path]) -> Job:
        return self._track(self.engine.ingest(library, paths))

    def sync_folder(self, folder: Path) -> Job | None:
        """Bring the selected library in line with ``folder`` (after the running job)."""
        if not self.library or self.read_only:
            return None
        if self.documents.job is not None:
            if (self.library, folder) not in self.sync_queued:  # one sync covers every change
                self.sync_queued.append((self.library, folder))
            return None
        return self._track(self.engine.sync(self.library, [folder]))

    def sync_library(self) -> Job | None:
        """Bring the selected library in line with every folder and file it was built from."""
        if not self.library or self.documents.job is not None or self.read_only:
            return None
        return self._track(self.engine.sync(self.library))

    def _track(self, job: Job) -> Job:
        self.review.make_way()  # new rows are filled after the ingest, not ahead of it
        self._last_done = -1
        self.documents.track(job)
        job.progressed.connect(self._on_ingest_progress)
        job.ended.connect(self._start_next_queued)
        self.ingest_started.emit(job)
        return job

    def _drop_queue(self) -> None:
        """The user's Cancel means stop adding: what was waiting is not started either."""
        self.sync_queued.clear()  # the next change in a watched folder syncs again
        if self.queued:
            n = self.queued_count()
            self.queued.clear()
            self.documents.set_queued(0)
            self.statusBar().showMessage(f"Cancelled; {n} waiting item{'s were' if n != 1 else ' was'} not added.", 8000)

    def _start_next_queued(self) -> None:
        if self.documents.job is not None:
            return
        if not self.queued:
            self._start_next_sync()
            return
        library, paths = self.queued.pop(0)
        # Items queued for the same library go in one batch (one scan, one report).
        while self.queued and self.queued[0][0] == library:
            paths += self.queued.pop(0)[1]
        self.documents.set_queued(self.queued_count())
        if self.engine.folders.exists(library):
            self._start_ingest(library, paths)
        else:  # the library was deleted meanwhile
            self._start_next_queued()

    def _start_next_sync(self) -> None:
        while self.sync_queued:
            library, folder = self.sync_queued.pop(0)
            if library in self.engine.folders.names():
                self._track(self.engine.sync(library, [folder]))
                return

    def _on_ingest_progress(self, p: object) -> None:
        # Show finished files as they land, not only at the end.
        done = getattr(p, "done", -1)
        if done != self._last_done:
            self._last_done = done
            self.refresh_documents()

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add documents", "", "Documents (*.pdf *.docx *.pptx *.md *.txt);;All files (*)")
        if files:
            self.add_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of documents")
        if folder:
            self.add_paths([Path(folder)])

    def remove_documents(self, ids: list[int]) -> None:
        if self.read_only:
            return
        n = len(ids)
        answer = QMessageBox.question(
            self, "Remove documents",
            f"Remove {n} document{'s' if n != 1 else ''} from this library?\n\nThe files stay on your disk.")
        if answer == QMessageBox.StandardButton.Yes:
            self.engine.remove(self.library, ids)

    def _on_watched_changed(self, folder: str) -> None:
        # Added, changed, moved and deleted files alike: the engine's sync sorts them out.
        self.sync_folder(Path(folder))
