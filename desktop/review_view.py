"""The Review view beside the chat: the library's documents × the reviewer's questions,
filled by the engine off the UI thread, a cell at a time.

The grid is the library's saved grid (the first by name, or "Review"): its columns are
saved whenever they change, and opening the view runs it again, which reads finished
cells back from the engine's cache and computes only new documents' rows. Marks go
through the library (kept in the manifest, written to the audit log); column and cell
commands live in :mod:`desktop.review_actions`.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QSizePolicy,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.chat_store import QuoteRef
from desktop.engine import Engine
from desktop.jobs import Job, one_line
from desktop.review_actions import ReviewActions, log_error
from desktop.review_model import FILTERS, PENDING, ReviewFilter, ReviewModel, Role
from desktop.review_run import ReviewRunning
from desktop.widgets import button
from rag.ask.review.cells import Cell
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewResult
from rag.library import Library
from rag.team.matter import TeamMatter
from rag.types import DocStatus

DEFAULT_GRID = "Review"
EMPTY = ("<b>Review every document at once.</b><br>One question per column, one row per document; "
         "each cell is answered from that document alone, with its quote, or says “not stated”.<br><br>"
         "Start from a preset or add your own columns.")
PRESET_NAMES = {"contract": "Contract review", "medical": "Medical record review"}


class _MiddleElided(QStyledItemDelegate):
    """Document names elided in the middle: contracts' names differ at both ends."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class ReviewPanel(ReviewRunning, QWidget):
    source_clicked = Signal(object)  # SourceRef: a cell's quote, to show in the viewer
    ask_requested = Signal(list)  # document ids the reviewer wants to ask about
    ran = Signal(object)  # the ReviewResult of a run that ended (finished or cancelled)

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.library = ""
        self.read_only = False
        self.grid_name = DEFAULT_GRID
        self.grid_id: int | None = None
        self.job: Job | None = None
        self.commands = ReviewActions(self)
        self._rerun = False  # the columns changed during a run: run the grid again after it
        self._pace0: tuple[float, int] | None = None  # (seconds, cells) at the first computed cell
        self._opened = ""  # the library whose saved grid has been run since it was chosen
        self.model = ReviewModel(self)
        self.proxy = ReviewFilter(self)
        self.proxy.setSourceModel(self.model)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Review grid")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setItemDelegateForColumn(0, _MiddleElided(self.table))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setDefaultSectionSize(170)
        header.setMinimumSectionSize(60)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.clicked.connect(self.open_quote)
        self.table.activated.connect(self._on_activated)

        self.grids = QComboBox()
        self.grids.setAccessibleName("Saved review grid")
        self.grids.setToolTip("This library's saved review grids")
        self.grids.setMinimumContentsLength(10)
        self.grids.activated.connect(self._on_grid_chosen)
        self.preset_btn = button("Preset ▾", "Add a preset's columns", "Add the columns of a built-in review")
        presets = QMenu(self.preset_btn)
        for key, label in PRESET_NAMES.items():
            presets.addAction(label, lambda key=key: self.commands.add_preset(key))  # type: ignore[misc]
        self.preset_btn.setMenu(presets)
        self.add_btn = button("Add column…", "Add a column", "Add a question as a column (Ctrl+Shift+N)",
                              self.commands.add_column)
        self.run_btn = button("Run", "Run the review", "Fill every cell; finished cells are reused (Ctrl+R)",
                              lambda: self.run())
        self.cancel_btn = button("Cancel", "Stop the review", "Stop after the current cell; finished cells stay",
                                 self.cancel)
        self.export_btn = button("Export ▾", "Export the grid", "Excel workbook, CSV or a Word memo with footnotes")
        exports = QMenu(self.export_btn)
        exports.addAction("Excel workbook (.xlsx)…", lambda: self.commands.export("xlsx"))
        exports.addAction("CSV (.csv)…", lambda: self.commands.export("csv"))
        exports.addAction("Word memo with footnotes (.docx)…", lambda: self.commands.export("docx"))
        self.export_btn.setMenu(exports)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter rows")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter review rows")
        self.filter.textChanged.connect(self.proxy.set_text)
        self.state = QComboBox()
        self.state.setAccessibleName("Show rows")
        for label, state in FILTERS.items():
            self.state.addItem(label, state)
        self.state.currentIndexChanged.connect(lambda _i: self.proxy.set_state(self.state.currentData()))

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Review progress")
        self.status = QLabel()
        self.status.setAccessibleName("Review status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setMinimumWidth(1)

        self.empty = QLabel(EMPTY)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_page = QWidget()
        empty_col = QVBoxLayout(empty_page)
        empty_col.addStretch(1)
        empty_col.addWidget(self.empty)
        starts = QHBoxLayout()
        starts.addStretch(1)
        self.start_btns = []
        for key, label in PRESET_NAMES.items():
            b = button(label, f"Start a {label.lower()}", slot=lambda key=key: self.commands.add_preset(key))  # type: ignore[misc]
            starts.addWidget(b)
            self.start_btns.append(b)
        b = button("Add column…", "Add a column", slot=self.commands.add_column)
        starts.addWidget(b)
        self.start_btns.append(b)
        starts.addStretch(1)
        empty_col.addLayout(starts)
        empty_col.addStretch(2)
        self.pages = QStackedWidget()
        self.pages.addWidget(empty_page)
        self.pages.addWidget(self.table)

        tools = QHBoxLayout()
        tools.addWidget(self.grids)
        for b in (self.preset_btn, self.add_btn, self.run_btn, self.cancel_btn, self.export_btn):
            tools.addWidget(b)
        tools.addStretch(1)
        self.filters = QWidget()  # hidden while the grid has no columns: nothing to filter
        filters = QHBoxLayout(self.filters)
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.state)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.status, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.filters)
        layout.addWidget(self.pages, 1)
        layout.addLayout(bar)
        self.commands.install()
        self._update()

    # -- the library and its grid -------------------------------------------------------
    def lib(self) -> Library | TeamMatter:
        return self.engine.folders.open(self.library)

    def set_library(self, name: str, read_only: bool = False) -> None:
        """Show ``name``'s saved grid; it is run when the view is (or next becomes) visible."""
        if self.job is not None:
            self.job.cancel()
        self.library, self.read_only, self._opened = name, read_only, ""
        self.model.clear_cells()
        self.model.set_columns([])
        self.model.set_marks({})
        self.status.clear()
        names = [g.name for g in self.lib().grids.grids()] if name else []
        self._fill_grids(names)
        self.load_grid(names[0] if names else DEFAULT_GRID)
        if self.isVisible():
            self._open_run()

    def _fill_grids(self, names: list[str]) -> None:
        self.grids.blockSignals(True)
        self.grids.clear()
        for n in names or [DEFAULT_GRID]:
            self.grids.addItem(n)
        self.grids.addItem("New grid…")
        self.grids.setCurrentIndex(max(0, self.grids.findText(self.grid_name)))
        self.grids.blockSignals(False)

    def load_grid(self, grid_name: str) -> None:
        self.grid_name = grid_name
        grid = self.lib().saved_grid(grid_name) if self.library else None
        self.grid_id = grid.id if grid is not None else None
        self.model.set_columns([Column(n, q) for n, q in grid.columns] if grid is not None else [])
        self.refresh_documents(run_new=False)
        self.model.set_marks(self.lib().marks(self.grid_id) if self.grid_id is not None else {})
        if self.grids.findText(grid_name) < 0:  # a new grid: listed before "New grid…"
            self.grids.insertItem(max(0, self.grids.count() - 1), grid_name)
        self.grids.setCurrentIndex(self.grids.findText(grid_name))
        self._update()

    def _on_grid_chosen(self, index: int) -> None:
        if index == self.grids.count() - 1:
            self.commands.new_grid()
            return
        if self.job is not None:
            self.job.cancel()
        self.load_grid(self.grids.itemText(index))
        self.run()

    def save_columns(self, columns: list[Column]) -> None:
        """The grid's columns changed: show and keep them (a read-only library keeps them
        for this session only)."""
        self.model.set_columns(columns)
        if self.library and not self.read_only and columns:
            try:
                self.grid_id = self.lib().save_grid(self.grid_name, columns)
            except Exception as err:  # noqa: BLE001 (a locked or damaged manifest: one line)
                log_error(self, "saving the review grid failed")
                self.status.setText(f"The columns could not be saved: {one_line(err)}")
            else:
                self._fill_grids([g.name for g in self.lib().grids.grids()])
        self._update()

    def refresh_documents(self, run_new: bool = True) -> None:
        """The library's documents changed: rows follow; new documents get their cells."""
        docs = [d for d in self.lib().documents() if d.status is DocStatus.READY] if self.library else []
        known = {d.id for d in self.model.documents}
        self.model.set_documents(docs)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 260))
        if run_new and self._opened and self.model.columns and {d.id for d in docs} - known:
            self.run()
        self._update()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._open_run()

    def _open_run(self) -> None:
        """The first time the grid is seen: fill it (from the cache, mostly)."""
        if self.library and self._opened != self.library:
            self._opened = self.library
            if self.model.columns and self.model.documents:
                self.run()

    def _ran(self, result: ReviewResult) -> None:
        self.ran.emit(result)

    def _update(self) -> None:
        has_columns = bool(self.model.columns)
        self.pages.setCurrentIndex(1 if has_columns else 0)
        self.filters.setVisible(has_columns)
        running = self.job is not None
        self.progress.setVisible(running)
        self.cancel_btn.setVisible(running)
        self.cancel_btn.setEnabled(running)
        on = bool(self.library)
        for w in (self.preset_btn, self.add_btn, self.grids, *self.start_btns):
            w.setEnabled(on)
        self.run_btn.setEnabled(on and has_columns and bool(self.model.documents) and not running)
        self.export_btn.setEnabled(on and has_columns and bool(self.model.documents))
        if not on:
            self.empty.setText("<i>Create or choose a library on the left.</i>")
        elif not self.model.documents:
            self.empty.setText(EMPTY + "<br><br><i>This library has no documents yet: add some first.</i>")
        else:
            self.empty.setText(EMPTY)

    # -- cells ---------------------------------------------------------------------------
    def source_index(self, index: QModelIndex) -> QModelIndex:
        return self.proxy.mapToSource(index) if index.model() is self.proxy else index

    def open_quote(self, index: QModelIndex) -> bool:
        """Show the cell's first quote in the viewer, highlighted; False when it has none."""
        cell = self.proxy.data(index, Role.CELL) if index.model() is self.proxy else self.model.data(index, Role.CELL)
        if not isinstance(cell, Cell) or not cell.quotes:
            if index.column() > 0 and self.proxy.data(index, Role.STATUS) == PENDING:
                self.status.setText("This cell is being computed.")
            return False
        self.source_clicked.emit(QuoteRef.from_quote(cell.quotes[0]).source())
        return True

    def _on_activated(self, index: QModelIndex) -> None:
        # Enter: a double click's activation follows its first click, which opened it.
        if QApplication.mouseButtons() == Qt.MouseButton.NoButton:
            self.open_quote(index)

    def selected_doc_ids(self) -> list[int]:
        rows = {i.row() for i in self.table.selectionModel().selectedIndexes()}
        return [int(self.proxy.data(self.proxy.index(r, 0), Role.DOC_ID)) for r in sorted(rows)]
