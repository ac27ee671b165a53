"""The main window: libraries left, documents and chat in the middle, the source right."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
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
from desktop.window_drops import DropsWindow
from desktop.window_menus import build_menus
from rag.team.matter import TeamMatter, is_team

if TYPE_CHECKING:
    from desktop.team_link import TeamLink
    from desktop.team_session import TeamSession

class MainWindow(DropsWindow):
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
