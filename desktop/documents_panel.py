"""The selected library's documents: filter box, sortable table, ingest progress, remove."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.documents_model import DOC_ID_ROLE, Column, DocumentsFilter, DocumentsModel
from desktop.jobs import Job
from rag.ingest.progress_eta import Eta
from rag.ingest.sync import SyncReport
from rag.types import DocumentInfo, IngestReport, Outcome, Progress

ADD_TIP = "Add documents (Ctrl+O), or drop files and folders on the window"
REMOVE_TIP = "Remove the selected documents from this library (Del); files stay on disk"
EMPTY_HINT = ("Drop PDF, Word, PowerPoint, Markdown or text files (or whole folders) "
              "anywhere on this window to add them to the library.")


def report_text(report: IngestReport) -> str:
    added = report.count(Outcome.INDEXED) + report.count(Outcome.REPLACED)
    parts = [f"{added} added"]
    if report.count(Outcome.UNCHANGED):
        parts.append(f"{report.count(Outcome.UNCHANGED)} already there")
    detail = ""
    if report.failed:
        parts.append(f"{len(report.failed)} could not be read (see Problems)")
        detail = " " + "; ".join(f"{r.name.rsplit('/', 1)[-1]}: {r.reason}" for r in report.failed[:3])
        detail += f"; and {len(report.failed) - 3} more." if len(report.failed) > 3 else "."
    if report.cancelled:
        parts.append("stopped before the end")
    return ", ".join(parts) + "." + detail


class DocumentsPanel(QWidget):
    add_requested = Signal()
    remove_requested = Signal(list)  # document ids
    cancel_requested = Signal()  # the user pressed Cancel
    ask_requested = Signal(list)  # document ids to ask the chat about

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = DocumentsModel(self)
        self.proxy = DocumentsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.job: Job | None = None
        self._eta = Eta()
        self._queued = 0
        self._line = ""
        self.read_only_reason = ""  # set while the open library is read-only here

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter documents (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter documents")
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.add_btn = QPushButton("Add files…")
        self.add_btn.setToolTip(ADD_TIP)
        self.add_btn.setAccessibleName("Add documents")
        self.add_btn.clicked.connect(self.add_requested)
        self.remove_btn = QPushButton("Remove")
        self.remove_btn.setToolTip(REMOVE_TIP)
        self.remove_btn.setAccessibleName("Remove selected documents from the library")
        self.remove_btn.clicked.connect(self.request_remove)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Documents")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.PROBLEMS, QHeaderView.ResizeMode.Stretch)
        for col in (Column.TYPE, Column.PAGES, Column.STATUS, Column.ADDED):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        ask = QAction("Ask about the selected documents (Ctrl+Shift+A)", self.table)
        ask.triggered.connect(lambda: self.ask_requested.emit(self.selected_ids()) if self.selected_ids() else None)
        self.table.addAction(ask)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Ingest progress")
        self.progress_label = QLabel()
        self.progress_label.setAccessibleName("Ingest status")
        # Long file names wrap here instead of widening the window and squeezing the viewer.
        self.progress_label.setWordWrap(True)
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress_label.setMinimumWidth(1)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setAccessibleName("Cancel adding documents")
        self.cancel_btn.clicked.connect(self.cancel_ingest)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.add_btn)
        top.addWidget(self.remove_btn)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_btn)
        self.empty_hint = QLabel(EMPTY_HINT)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.progress_label)
        layout.addLayout(bar)
        layout.addWidget(self.result_label)
        self._show_progress(False)
        self._update_buttons()

    def set_documents(self, docs: list[DocumentInfo]) -> None:
        self.model.set_documents(docs)
        self.empty_hint.setVisible(not docs)
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [int(self.proxy.data(r, DOC_ID_ROLE)) for r in rows]

    def set_read_only(self, reason: str) -> None:
        """``reason`` (a sentence) disables adding and removing and says why in their
        tooltips; "" enables them again."""
        self.read_only_reason = reason
        self.add_btn.setEnabled(not reason)
        self.add_btn.setToolTip(reason or ADD_TIP)
        self.remove_btn.setToolTip(reason or REMOVE_TIP)
        self.empty_hint.setText(reason or EMPTY_HINT)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_btn.setEnabled(bool(self.table.selectionModel().selectedRows()) and self.job is None
                                   and not self.read_only_reason)

    def request_remove(self) -> None:
        ids = self.selected_ids()
        if ids and self.job is None and not self.read_only_reason:
            self.remove_requested.emit(ids)

    # -- ingest progress ----------------------------------------------------------------------
    def _show_progress(self, on: bool) -> None:
        for w in (self.progress, self.progress_label, self.cancel_btn):
            w.setVisible(on)

    def track(self, job: Job) -> None:
        self.job = job
        self._eta = Eta()
        self.result_label.clear()
        self.progress.setRange(0, 0)  # busy until the scan tells the total
        self._line = ""
        self._show_line()
        self.cancel_btn.setEnabled(True)
        self._show_progress(True)
        job.progressed.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.cancelled.connect(lambda: self._on_finished(job.result))
        job.failed.connect(self._on_failed)
        self._update_buttons()

    def _on_progress(self, p: object) -> None:
        if not isinstance(p, Progress):
            return
        if p.stage == "waiting" or (not p.total and p.message):  # another window; a sync comparing
            self._line = p.message[:1].upper() + p.message[1:]
            self._show_line()
            return
        self._eta.update(p)
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        current = f" — {p.current}" if p.current else ""
        if p.stage == "upload" and p.message:  # a team matter: the server parses and indexes
            current += f": {p.message}"
        eta = self._eta.text()
        chunks = f", {p.chunks} passages indexed" if p.chunks else ""
        self._line = f"{p.done} of {p.total} files{chunks}{current}" + (f" · {eta}" if eta else "")
        self._show_line()

    def set_queued(self, n: int) -> None:
        """How many dropped items wait for the running ingest to finish."""
        self._queued = n
        self._show_line()

    def _show_line(self) -> None:
        if self.job is None:
            return
        waiting = f" · {self._queued} more waiting" if self._queued else ""
        self.progress_label.setText((self._line or "Looking at the files…") + waiting)

    def _on_finished(self, report: object) -> None:
        self.job = None
        self._show_progress(False)
        if isinstance(report, IngestReport):
            self.result_label.setText(report_text(report))
        elif isinstance(report, SyncReport):
            self.result_label.setText(f"Synced with its folders: {report.summary()}.")
        else:
            self.result_label.setText("Stopped.")
        self._update_buttons()

    def _on_failed(self, reason: str) -> None:
        self.job = None
        self._show_progress(False)
        self.result_label.setText(f"Adding documents failed: {reason}")
        self._update_buttons()

    def cancel_ingest(self) -> None:
        if self.job is not None:
            self.cancel_requested.emit()
            self.job.cancel()
            self.cancel_btn.setEnabled(False)
            self.progress_label.setText("Stopping after the current step…")
