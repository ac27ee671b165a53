"""The review grid as a Qt model: one row per document, one column per question (after
the document's own column), each cell an engine :class:`Cell` with the reviewer's mark.

Cells arrive one at a time while the engine fills the grid (:meth:`ReviewModel.set_cell`
changes one index, so 100 × 12 cells never reset the view). Cells are kept by (document,
question): renaming a column keeps its cells, editing its question empties that column
until it is computed again. Marks are kept by (document, column name), as the engine
keeps them. :class:`ReviewFilter` sorts by status and answer and filters rows.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon

from desktop.review_look import (
    FLAGGED,
    OVERWRITTEN,
    PENDING,
    STATUS_COLOUR,
    STATUS_WORDS,
    VERIFIED,
    icon,
    quote_tooltip,
    tint,
)
from rag.ask.review.cells import FAILED, FOUND, NOT_STATED, Cell
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewResult
from rag.ask.review.export import shown_answer
from rag.store.grids import Mark
from rag.types import DocumentInfo

__all__ = ["FLAGGED", "OVERWRITTEN", "PENDING", "VERIFIED", "FILTERS", "ReviewFilter", "ReviewModel", "Role",
           "quote_tooltip"]
_RANK = {OVERWRITTEN: "0", FOUND: "1", NOT_STATED: "2", FAILED: "3", PENDING: "4", "": "5"}

Index = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    CELL = Qt.ItemDataRole.UserRole + 1  # the engine's Cell, or None
    STATUS = Qt.ItemDataRole.UserRole + 2  # found | not_stated | failed | pending | ""
    MARK = Qt.ItemDataRole.UserRole + 3  # verified | flagged | overwritten | ""
    DOC_ID = Qt.ItemDataRole.UserRole + 4
    SORT = Qt.ItemDataRole.UserRole + 5


class ReviewModel(QAbstractTableModel):
    """Documents × columns; column 0 is the document."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.documents: list[DocumentInfo] = []
        self.columns: list[Column] = []
        self.marks: dict[tuple[int, str], Mark] = {}
        self._cells: dict[tuple[int, str], Cell] = {}  # (doc id, question)
        self._pending: set[tuple[int, str]] = set()  # (doc id, question) queued in a running review
        self._row: dict[int, int] = {}
        self._icons: dict[str, QIcon] = {}

    # -- shape -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.documents)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns) + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return "Document" if section == 0 else self.columns[section - 1].name
        if role == Qt.ItemDataRole.ToolTipRole and section > 0:
            return f"{self.columns[section - 1].question}\n(right-click to edit, remove or move this column)"
        return None

    def set_documents(self, docs: list[DocumentInfo]) -> None:
        """The grid's rows; cells of documents that stay are kept."""
        self.beginResetModel()
        self.documents = list(docs)
        self._row = {d.id: i for i, d in enumerate(self.documents)}
        keep = set(self._row)
        self._cells = {k: c for k, c in self._cells.items() if k[0] in keep}
        self.endResetModel()

    def set_columns(self, columns: list[Column]) -> None:
        self.beginResetModel()
        self.columns = list(columns)
        questions = {c.question for c in columns}
        self._cells = {k: c for k, c in self._cells.items() if k[1] in questions}
        self.endResetModel()

    def set_marks(self, marks: dict[tuple[int, str], Mark]) -> None:
        self.marks = dict(marks)
        if self.rowCount() and self.columns:
            self.dataChanged.emit(self.index(0, 1), self.index(self.rowCount() - 1, len(self.columns)))

    # -- cells -------------------------------------------------------------------------
    def clear_cells(self, question: str | None = None) -> None:
        """Forget computed cells (of one question), before they are computed again."""
        self._cells = {k: c for k, c in self._cells.items() if question is not None and k[1] != question}
        self._changed_all()

    def set_pending(self, keys: set[tuple[int, str]]) -> None:
        """(doc id, question) of the cells a review is about to compute ("" ends it)."""
        self._pending = set(keys)
        self._changed_all()

    def set_cell(self, cell: Cell) -> None:
        key = (cell.doc_id, cell.column.question)
        self._pending.discard(key)
        row = self._row.get(cell.doc_id)
        if row is None:  # a document removed meanwhile
            return
        self._cells[key] = cell
        for i, col in enumerate(self.columns, start=1):
            if col.question == cell.column.question:
                index = self.index(row, i)
                self.dataChanged.emit(index, index)

    def cell(self, doc_id: int, column: Column) -> Cell | None:
        return self._cells.get((doc_id, column.question))

    def cell_at(self, index: Index) -> Cell | None:
        if not index.isValid() or index.column() == 0:
            return None
        return self.cell(self.documents[index.row()].id, self.columns[index.column() - 1])

    def status(self, doc_id: int, column: Column) -> str:
        cell = self.cell(doc_id, column)
        if cell is not None:
            return cell.status
        return PENDING if (doc_id, column.question) in self._pending else ""

    def set_mark(self, doc_id: int, column: str, mark: Mark | None) -> None:
        if mark is None:
            self.marks.pop((doc_id, column), None)
        else:
            self.marks[(doc_id, column)] = mark
        row = self._row.get(doc_id)
        names = [c.name for c in self.columns]
        if row is not None and column in names:
            index = self.index(row, names.index(column) + 1)
            self.dataChanged.emit(index, index)

    def counts(self) -> dict[str, int]:
        """How many cells of the grid are in each status (and marked each way)."""
        out = {FOUND: 0, NOT_STATED: 0, FAILED: 0, PENDING: 0, "": 0, VERIFIED: 0, FLAGGED: 0, OVERWRITTEN: 0}
        for d in self.documents:
            for c in self.columns:
                out[self.status(d.id, c)] += 1
                mark = self.marks.get((d.id, c.name))
                if mark is not None:
                    out[mark.mark] += 1
        return out

    def result(self) -> ReviewResult:
        """The grid as the engine's result (cells keyed by the columns' names now), to export."""
        cells = {(d.id, c.name): cell for d in self.documents for c in self.columns
                 if (cell := self.cell(d.id, c)) is not None}
        return ReviewResult(list(self.documents), list(self.columns), cells)

    def _changed_all(self) -> None:
        if self.rowCount() and self.columns:
            self.dataChanged.emit(self.index(0, 1), self.index(self.rowCount() - 1, len(self.columns)))

    def _icon(self, kind: str) -> QIcon:
        if kind not in self._icons:
            self._icons[kind] = icon(kind)
        return self._icons[kind]

    # -- data --------------------------------------------------------------------------
    def shown(self, doc_id: int, column: Column) -> str:
        """The cell's text as the grid shows it."""
        mark = self.marks.get((doc_id, column.name))
        status = self.status(doc_id, column)
        if status == PENDING and not (mark and mark.mark == OVERWRITTEN):
            return "…"
        return shown_answer(self.cell(doc_id, column), mark)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        doc = self.documents[index.row()]
        if role == Role.DOC_ID:
            return doc.id
        if index.column() == 0:
            if role in (Qt.ItemDataRole.DisplayRole, Role.SORT):
                return doc.name if role == Qt.ItemDataRole.DisplayRole else doc.name.lower()
            if role == Qt.ItemDataRole.ToolTipRole:
                return doc.path
            return None
        column = self.columns[index.column() - 1]
        mark = self.marks.get((doc.id, column.name))
        status = self.status(doc.id, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return " ".join(self.shown(doc.id, column).split())
        if role == Qt.ItemDataRole.DecorationRole:
            kind = mark.mark if mark is not None else status
            return self._icon(kind) if kind else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return quote_tooltip(self.cell(doc.id, column), mark, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return tint(mark.mark) if mark is not None else None
        if role == Qt.ItemDataRole.ForegroundRole and status in (NOT_STATED, PENDING) and mark is None:
            return QBrush(QColor(STATUS_COLOUR[NOT_STATED]))
        if role == Qt.ItemDataRole.FontRole and status in (NOT_STATED, FAILED) and mark is None:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.AccessibleTextRole:
            said = f"{column.name}: {self.shown(doc.id, column) or STATUS_WORDS[status]}"
            return said + (f", {mark.mark}" if mark is not None else "")
        if role == Role.CELL:
            return self.cell(doc.id, column)
        if role == Role.STATUS:
            return status
        if role == Role.MARK:
            return mark.mark if mark is not None else ""
        if role == Role.SORT:
            rank = _RANK[OVERWRITTEN] if mark is not None and mark.mark == OVERWRITTEN else _RANK[status]
            return rank + self.shown(doc.id, column).lower()
        return None


FILTERS = {
    "All documents": "",
    "With a flagged cell": FLAGGED,
    "With a cell not stated": NOT_STATED,
    "With a failed cell": FAILED,
    "With a cell not yet verified": "unverified",
}


class ReviewFilter(QSortFilterProxyModel):
    """Rows whose document or any cell holds the filter text, and that have a cell in the
    chosen state; sorted by a column's status, then its answer."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.state = ""
        self.setSortRole(Role.SORT)
        self.setDynamicSortFilter(True)

    def set_text(self, text: str) -> None:
        self.text = text.strip().lower()
        self.invalidateFilter()

    def set_state(self, state: str) -> None:
        self.state = state
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, ReviewModel)
        doc = model.documents[row]
        if self.state and not any(self._in_state(model, doc.id, c) for c in model.columns):
            return False
        if self.text:
            hay = [doc.name.lower()] + [model.shown(doc.id, c).lower() for c in model.columns]
            return any(self.text in h for h in hay)
        return True

    def _in_state(self, model: ReviewModel, doc_id: int, column: Column) -> bool:
        mark = model.marks.get((doc_id, column.name))
        if self.state == FLAGGED:
            return mark is not None and mark.mark == FLAGGED
        if self.state == "unverified":
            return model.status(doc_id, column) == FOUND and mark is None
        return model.status(doc_id, column) == self.state and mark is None
