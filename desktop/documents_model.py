"""Table model of one library's documents, and the proxy that sorts and filters it."""

from __future__ import annotations

import time
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from rag.types import DocStatus, DocumentInfo

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    TYPE = 1
    PAGES = 2
    STATUS = 3
    ADDED = 4
    PROBLEMS = 5


HEADERS = {
    Column.NAME: "Name",
    Column.TYPE: "Type",
    Column.PAGES: "Pages",
    Column.STATUS: "Status",
    Column.ADDED: "Added",
    Column.PROBLEMS: "Problems",
}

STATUS_TEXT = {DocStatus.READY: "Ready", DocStatus.INDEXING: "Indexing…", DocStatus.FAILED: "Failed"}

DOC_ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the document's id (int)
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # a value that sorts naturally (numbers as numbers)


# Below this OCR confidence a page's text is worth checking against the scan itself.
DOUBTFUL_OCR = 70.0


def _ocr_tooltip(doc: DocumentInfo) -> str:
    lines = ["Read by OCR from a scanned image; how sure the OCR was:"]
    for page, conf in doc.ocr_pages[:40]:
        check = " (check this page against the original)" if conf < DOUBTFUL_OCR else ""
        lines.append(f"page {page}: {conf:.0f}%{check}")
    if len(doc.ocr_pages) > 40:
        lines.append(f"… and {len(doc.ocr_pages) - 40} more pages")
    return "\n".join(lines)


def _added(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else ""


class DocumentsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._docs: list[DocumentInfo] = []

    # -- data in --------------------------------------------------------------------------
    def set_documents(self, docs: list[DocumentInfo]) -> None:
        self.beginResetModel()
        self._docs = list(docs)
        self.endResetModel()

    def document(self, row: int) -> DocumentInfo:
        return self._docs[row]

    def documents(self) -> list[DocumentInfo]:
        return list(self._docs)

    # -- Qt model interface ---------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._docs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(Column):
            return HEADERS[Column(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._docs)):
            return None
        doc = self._docs[index.row()]
        col = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(doc, col)
        if role == SORT_ROLE:
            if col == Column.PAGES:
                return doc.pages
            if col == Column.ADDED:
                return doc.added_at
            return (self._display(doc, col) or "").casefold()
        if role == DOC_ID_ROLE:
            return doc.id
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == Column.PROBLEMS and doc.error:
                return doc.error
            if col == Column.NAME:
                return f"{doc.name}\n{doc.path}" if doc.name != doc.path else doc.path
            if col == Column.PAGES and doc.ocr_pages:
                return _ocr_tooltip(doc)
        if role == Qt.ItemDataRole.ForegroundRole and doc.status is DocStatus.FAILED and col in (
            Column.STATUS, Column.PROBLEMS
        ):
            return QBrush(QColor("#d9534f"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == Column.PAGES:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(doc: DocumentInfo, col: Column) -> str:
        if col == Column.NAME:
            # Files from a dropped folder are named "folder/sub/file.pdf"; the file name is
            # what people scan for, the full path is in the tooltip.
            return doc.name.rsplit("/", 1)[-1]
        if col == Column.TYPE:
            return doc.kind.upper()
        if col == Column.PAGES:
            if not doc.pages:
                return ""
            ocr = len(doc.ocr_pages)  # a scan says so: its text was recognised, not read
            return f"{doc.pages} · OCR" if ocr >= doc.pages else f"{doc.pages} · {ocr} OCR" if ocr else str(doc.pages)
        if col == Column.STATUS:
            return STATUS_TEXT.get(doc.status, str(doc.status))
        if col == Column.ADDED:
            return _added(doc.added_at)
        return doc.error


class DocumentsFilter(QSortFilterProxyModel):
    """Case-insensitive filter on name, type, status and problems; natural sort order."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)  # match any column
