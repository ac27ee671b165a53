"""The review grid as a Qt model: one row per document, one column per question (after
the document's own column), each cell an engine :class:`Cell` with the reviewer's mark.

Cells arrive one at a time while the engine fills the grid (:meth:`ReviewModel.set_cell`
changes one index, so 100 × 12 cells never reset the view). Cells are kept by (document,
question): renaming a column keeps its cells, editing its question empties that column
until it is computed again. Marks are kept by (document, column name), as the engine
keeps them. :class:`ReviewFilter` sorts by status and answer and filters rows.
"""

from __future__ import annotations

import html
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from rag.ask.review.cells import FAILED, FOUND, NOT_STATED, Cell
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewResult
from rag.ask.review.export import shown_answer
from rag.ingest.locations import cite
from rag.store.grids import Mark
from rag.types import DocumentInfo

Index = QModelIndex | QPersistentModelIndex
PENDING = "pending"  # a cell queued in the running review
VERIFIED, FLAGGED, OVERWRITTEN = "verified", "flagged", "overwritten"

# Mid-tone colours: readable as icons and as translucent tints on the light and the dark palette.
STATUS_COLOUR = {FOUND: "#2e9d5b", NOT_STATED: "#8a8f98", FAILED: "#d9534f", PENDING: "#8a8f98"}
MARK_COLOUR = {VERIFIED: "#2e9d5b", FLAGGED: "#e8710a", OVERWRITTEN: "#3d7fd9"}
STATUS_WORDS = {FOUND: "found", NOT_STATED: "not stated", FAILED: "failed", PENDING: "being computed", "": "not computed"}
_RANK = {OVERWRITTEN: "0", FOUND: "1", NOT_STATED: "2", FAILED: "3", PENDING: "4", "": "5"}


class Role(IntEnum):
    CELL = Qt.ItemDataRole.UserRole + 1  # the engine's Cell, or None
    STATUS = Qt.ItemDataRole.UserRole + 2  # found | not_stated | failed | pending | ""
    MARK = Qt.ItemDataRole.UserRole + 3  # verified | flagged | overwritten | ""
    DOC_ID = Qt.ItemDataRole.UserRole + 4
    SORT = Qt.ItemDataRole.UserRole + 5


def _icon(kind: str) -> QIcon:
    """A small drawn icon (no font glyphs: the flag and check must look the same everywhere)."""
    pm = QPixmap(16, 16)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(MARK_COLOUR.get(kind) or STATUS_COLOUR.get(kind, "#8a8f98"))
    white = QPen(QColor("white"), 2.0)
    if kind == FLAGGED:
        p.setPen(QPen(colour, 2.0))
        p.drawLine(QPointF(4, 2), QPointF(4, 15))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([QPointF(4, 2), QPointF(14, 5.5), QPointF(4, 9)]))
    elif kind == NOT_STATED:
        p.setPen(QPen(colour, 1.6))
        p.drawEllipse(QPointF(8, 8), 5.5, 5.5)
        p.drawLine(QPointF(5, 8), QPointF(11, 8))
    elif kind == PENDING:
        p.setPen(QPen(colour, 1.4, Qt.PenStyle.DotLine))
        p.drawEllipse(QPointF(8, 8), 5.5, 5.5)
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        if kind == OVERWRITTEN:
            p.drawRoundedRect(1, 1, 14, 14, 3, 3)
        else:
            p.drawEllipse(QPointF(8, 8), 7, 7 if kind != FOUND else 4.5)
        p.setPen(white)
        if kind == VERIFIED:
            path = QPainterPath(QPointF(4.5, 8.5))
            path.lineTo(7, 11)
            path.lineTo(11.5, 5)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
        elif kind == FAILED:
            p.drawLine(QPointF(8, 4), QPointF(8, 9))
            p.drawPoint(QPointF(8, 12))
        elif kind == OVERWRITTEN:
            p.drawLine(QPointF(4.5, 4.5), QPointF(11.5, 4.5))
            p.drawLine(QPointF(8, 4.5), QPointF(8, 12))
    p.end()
    return QIcon(pm)


def tint(mark: str) -> QBrush:
    colour = QColor(MARK_COLOUR[mark])
    colour.setAlpha(70)
    return QBrush(colour)


def quote_tooltip(cell: Cell | None, mark: Mark | None, column: Column) -> str:
    """The hover text: the question, the answer and its quotes with where they are."""
    out = [f"<b>{html.escape(column.name)}</b>: <i>{html.escape(column.question)}</i>"]
    if cell is None:
        out.append("Not computed yet: run the review (Ctrl+R).")
    elif cell.status == FAILED:
        out.append(f"Could not be computed: {html.escape(cell.error or 'see the log file')}")
    elif cell.status == NOT_STATED:
        out.append("Not stated in this document: no passage says it the way documents do.")
    for q in (cell.quotes[:2] if cell is not None else []):
        text = " ".join(q.text.split())
        if len(text) > 600:
            text = text[:600].rsplit(" ", 1)[0] + " …"
        file, where = cite(q.passage.file, q.location)
        shown = f"{file}, {where}" if where else file
        out.append(f"“{html.escape(text)}”<br><small>— {html.escape(shown)}</small>")
    if cell is not None and cell.quotes:
        out.append("<small>Click or press Enter to see it in the document.</small>")
    if mark is not None:
        said = f"<b>{mark.mark.capitalize()}</b>"
        if mark.mark == OVERWRITTEN and cell is not None:
            said += f" (the engine said: {html.escape(shown_answer(cell, None) or '—')})"
        if mark.note:
            said += f". Note: {html.escape(mark.note)}"
        out.append(said)
    return "<qt>" + "<br><br>".join(out) + "</qt>"


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
        self._cells[key] = cell
        self._pending.discard(key)
        row = self._row.get(cell.doc_id)
        if row is None:
            return
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
            self._icons[kind] = _icon(kind)
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
