"""The main window: libraries left, documents and chat in the middle, the source right."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.chat_store import ChatStore, SourceRef
from desktop.chat_view import ChatPanel
from desktop.documents_panel import DocumentsPanel
from desktop.engine import Engine
from desktop.export import FORMATS, export
from desktop.jobs import Job
from desktop.library_notices import TITLE, WAITING, Banner, LibraryNotices
from desktop.library_panel import LibraryPanel
from desktop.review_view import ReviewPanel
from desktop.settings import Settings
from desktop.ui_state import UiState
from desktop.viewer import SourceViewer
from desktop.watch import FolderWatcher
from desktop.window_menus import build_menus
from rag.team.matter import TeamMatter, is_team

if TYPE_CHECKING:
    from desktop.team_link import TeamLink
    from desktop.team_session import TeamSession

DEFAULT_LIBRARY = "My documents"


class MainWindow(QMainWindow):
    ingest_started = Signal(object)  # Job
    settings_requested = Signal()
    about_requested = Signal()  # show where the data lives (the first-run screen)

    def __init__(
        self,
        engine: Engine,
        settings: Callable[[], Settings],
        ui_state: UiState | None = None,
        *,
        open_last: bool = True,
    ) -> None:
        """``open_last=False``: the caller opens the last library (:meth:`open_last_library`)
        once the window is on screen; opening one loads its vector index, seconds at start-up."""
        super().__init__()
        self.engine = engine
        self._settings = settings
        self.ui_state = ui_state
        self.library = ""
        self.team: TeamLink | None = None  # set_team: the team server's matters
        self._last_done = -1
        # Files dropped while an ingest runs wait here, in order, as (library, paths).
        self.queued: list[tuple[str, list[Path]]] = []
        # Watched folders that changed while a job ran, as (library, folder): synced next.
        self.sync_queued: list[tuple[str, Path]] = []
        self.setWindowTitle(TITLE)
        self.setAcceptDrops(True)
        self.resize(1400, 880)

        self.libraries = LibraryPanel(engine.folders)
        self.documents = DocumentsPanel()
        self.chat = ChatPanel(engine, lambda: self._settings().passages)
        self.viewer = SourceViewer(self._page_text)
        self.review = ReviewPanel(engine)
        for w in (self.chat.question, self.chat.transcript, self.documents.filter):
            w.setAcceptDrops(False)  # a drop anywhere means "add these files"

        self.middle = QSplitter(Qt.Orientation.Vertical)
        self.middle.addWidget(self.documents)
        # The review grid beside the chat: both read the same library and open the same viewer.
        self.tabs = QTabWidget()
        self.tabs.addTab(self.chat, "Chat")
        self.tabs.addTab(self.review, "Review")
        self.tabs.setDocumentMode(True)
        self.middle.addWidget(self.tabs)
        self.middle.setSizes([300, 560])
        self.main = QSplitter(Qt.Orientation.Horizontal)
        self.main.addWidget(self.libraries)
        self.main.addWidget(self.middle)
        self.main.addWidget(self.viewer)
        self.main.setSizes([220, 640, 540])
        self.main.setChildrenCollapsible(False)
        self.main.setContentsMargins(6, 4, 6, 0)
        self.banner = Banner()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(6, 4, 6, 0)
        column.addWidget(self.banner)
        column.addWidget(self.main, 1)
        self.setCentralWidget(central)
        self.splitters = {"main": self.main, "middle": self.middle}

        self.model_label = QLabel(engine.model_state)
        self.model_label.setAccessibleName("Model status")
        self.statusBar().addPermanentWidget(self.model_label)
        self.embedder_label = QLabel("")
        self.embedder_label.setAccessibleName("Embedding model status")
        self.statusBar().addPermanentWidget(self.embedder_label)
        settings_btn = QToolButton()
        settings_btn.setText("Settings…")
        settings_btn.setAccessibleName("Settings")
        settings_btn.setToolTip("Model, threads, GPU, context size, passages, watched folders (Ctrl+,)")
        settings_btn.clicked.connect(self.settings_requested.emit)
        self.statusBar().addPermanentWidget(settings_btn)
        engine.model_state_changed.connect(self._on_model_state)
        engine.library_changed.connect(self._on_library_changed)
        engine.library_noted.connect(self._on_library_noted)
        engine.library_waiting.connect(lambda name, _line: self.statusBar().showMessage(WAITING.format(name=name)))
        engine.runner.unhandled.connect(lambda job: self.statusBar().showMessage(f"{job.name}: {job.error}", 15_000))
        self.libraries.selected.connect(self._on_library_selected)
        self.libraries.deleting.connect(self._on_library_deleting)
        self.documents.add_requested.connect(self.choose_files)
        self.documents.remove_requested.connect(self.remove_documents)
        self.documents.cancel_requested.connect(self._drop_queue)
        self.chat.citation_clicked.connect(self.show_source)
        self.chat.export_requested.connect(self.export_chat)
        self.review.source_clicked.connect(self.show_source)
        self.review.ask_requested.connect(self.ask_about)
        self.documents.ask_requested.connect(self.ask_about)
        self.watcher = FolderWatcher(self)
        self.watcher.changed.connect(self._on_watched_changed)
        self.notices = LibraryNotices(self, self.banner, self.documents, build_menus(self))
        self._on_model_state()
        if ui_state is not None:
            ui_state.restore(self, self.splitters)
        if open_last:
            self.libraries.refresh(select=settings().last_library)

    def open_last_library(self) -> Job | None:
        """Open the last library on its own lane (its index loads off the UI thread, and an
        ingest into it queues behind), then list it; the window is usable meanwhile."""
        name = self._settings().last_library
        if not name or name not in self.engine.folders.names():
            self.libraries.refresh(select=name)
            return None
        self.libraries.blockSignals(True)  # listed and highlighted now, opened below
        try:
            self.libraries.refresh(select=name)
        finally:
            self.libraries.blockSignals(False)
        self.statusBar().showMessage(f"Opening {name}…")
        job = self.engine.runner.submit(f"Opening {name}", f"ingest:{name}", lambda ctx: self.engine.folders.open(name))
        job.failed.connect(lambda _reason: self._on_last_library_opened(job))
        job.finished.connect(lambda _lib: self._on_last_library_opened(job))
        return job

    def _on_last_library_opened(self, job: Job) -> None:
        if self.statusBar().currentMessage().startswith("Opening "):  # not a note said meanwhile
            self.statusBar().clearMessage()
        name = self.libraries.current()  # the user may have picked another meanwhile
        if job.outcome == "failed" and name == self._settings().last_library:
            # Said once, from the job's error; opening it again here would only fail again.
            self.notices.open_failed(name, job.exception or RuntimeError(job.error))
            name = ""
        self._on_library_selected(name)

    def _on_model_state(self) -> None:
        # Full reasons (builds skipped, why a model failed) in the tooltip and Settings › Model.
        self.model_label.setText(self.engine.model_summary)
        self.model_label.setToolTip(self.engine.model_state)

    def _on_library_noted(self, name: str, line: str) -> None:
        self.notices.noted(name, line)

    def set_embedder_state(self, text: str) -> None:
        self.embedder_label.setText(text)
        self.embedder_label.setToolTip("Where the embedding model runs (search and adding documents)")

    def focus_filter(self) -> None:
        self.documents.filter.setFocus()
        self.documents.filter.selectAll()

    def stop(self) -> None:
        """Esc: stop the answer if one is running, else nothing (ingest has its own Cancel)."""
        self.chat.stop()

    # -- libraries ---------------------------------------------------------------------------
    def _on_library_selected(self, name: str) -> None:
        store, lib = None, None
        if name:
            try:
                lib = self.engine.folders.open(name)
                # A team matter's chats last the session: it has no copy on this computer.
                store = (ChatStore.in_memory() if isinstance(lib, TeamMatter)
                         else ChatStore(self.engine.folders.path(name), lib.files, read_only=lib.read_only))
            except Exception as err:  # noqa: BLE001 (damaged, locked, busy: said, and the app goes on)
                self.notices.open_failed(name, err)
                name, lib = "", None
        if name != self.library:
            self.viewer.clear()  # one matter's page never stays up beside another's chat
        self.library = name
        self._settings().last_library = name
        self.notices.show_library(lib)
        self.documents.result_label.clear()
        self.chat.set_library(name, store)
        self.refresh_documents()
        self.review.set_library(name, self.read_only)
        self.watcher.watch(self._settings().watched_folders if name and not self.read_only and not is_team(name)
                           else [])

    @property
    def read_only(self) -> bool:
        return self.notices.read_only

    def _on_library_deleting(self, name: str) -> None:
        self.queued = [(lib, paths) for lib, paths in self.queued if lib != name]
        self.sync_queued = [(lib, f) for lib, f in self.sync_queued if lib != name]
        self.documents.set_queued(self.queued_count())
        for job in self.engine.runner.active(f"ingest:{name}"):
            job.cancel()
        self.engine.runner.shutdown_lane(f"ingest:{name}")
        if name == self.library:
            self.chat.set_library("", None)
            self.review.set_library("")

    def _on_library_changed(self, name: str) -> None:
        if name == self.library:
            self.refresh_documents()
            self.review.refresh_documents()

    def refresh_documents(self) -> None:
        if self.team is not None and is_team(self.library):
            self.team.refresh_documents(self.library)  # from the server, in the background
            return
        docs = self.engine.folders.open(self.library).documents() if self.library else []
        self.documents.set_documents(docs)

    def set_team(self, session: TeamSession) -> None:
        from desktop.team_link import TeamLink

        self.team = TeamLink(self, session)
        self.libraries.set_team(session)

    def show_source(self, source: SourceRef) -> None:
        if self.team is not None and is_team(self.library):
            self.team.show_source(source)  # its page comes from the server first
        else:
            self.viewer.show_source(source)

    def _page_text(self, doc_id: int, page: int) -> str:
        return self.engine.folders.open(self.library).page_text(doc_id, page)

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

    def ask_about(self, ids: list[int] | None = None) -> None:
        """Ask the chat about the chosen documents only: ``ids``, else the rows selected in
        the grid (while it shows) or in the documents table."""
        if ids is None:
            ids = self.review.selected_doc_ids() if self.tabs.currentWidget() is self.review else []
            ids = ids or self.documents.selected_ids()
        if not ids or not self.library:
            self.statusBar().showMessage("Select documents (or rows of the review grid) first.", 5000)
            return
        names = {d.id: d.name for d in self.engine.folders.open(self.library).documents()}
        self.chat.set_scope(ids, [names.get(i, str(i)) for i in ids])
        self.tabs.setCurrentWidget(self.chat)
        self.chat.question.setFocus()

    # -- export ----------------------------------------------------------------------------------
    def export_chat(self, scope: str) -> None:
        chat = self.chat.chat()
        if chat is None or not chat.exchanges:
            return
        exchanges = chat.exchanges if scope == "chat" else chat.exchanges[-1:]
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export", f"{chat.title[:40]}.md", ";;".join(FORMATS.values()))
        if not path:
            return
        if not Path(path).suffix:
            ext = next((k for k, v in FORMATS.items() if v == chosen), "md")
            path = f"{path}.{ext}"
        try:
            export(exchanges, Path(path), title=chat.title)
        except Exception as err:  # noqa: BLE001 (disk full, bad name: tell the user)
            QMessageBox.warning(self, "Export", f"Could not export: {err}")
            return
        if self.library:
            self.engine.folders.open(self.library).record_export(Path(path).suffix.lstrip("."), len(exchanges))
        self.statusBar().showMessage(f"Exported to {path}", 6000)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.ui_state is not None:
            self.ui_state.save(self, self.splitters)
        self.chat.stop()
        super().closeEvent(event)
