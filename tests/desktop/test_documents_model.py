"""The documents table model obeys Qt's model contract; the proxy sorts and filters."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.documents_model import DOC_ID_ROLE, Column, DocumentsFilter, DocumentsModel
from rag.types import DocStatus, DocumentInfo

pytestmark = pytest.mark.gui


def _doc(i: int, name: str, pages: int, status: DocStatus = DocStatus.READY, error: str = "") -> DocumentInfo:
    return DocumentInfo(i, f"/d/{name}", name, name.rsplit(".", 1)[-1], pages, pages * 3, status, error,
                        1_700_000_000.0 + i, 1000 * i)


DOCS = [
    _doc(1, "lease.pdf", 12),
    _doc(2, "memo.docx", 3),
    _doc(3, "scan.pdf", 0, DocStatus.FAILED, "no text layer found in 4 page(s): it looks like a scan"),
    _doc(4, "Appendix.txt", 100),
]


def test_model_contract(qtmodeltester) -> None:
    model = DocumentsModel()
    model.set_documents(DOCS)
    qtmodeltester.check(model, force_py=True)
    proxy = DocumentsFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)


def test_columns_show_what_a_user_reads() -> None:
    model = DocumentsModel()
    model.set_documents(DOCS)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in Column] == [
        "Name", "Type", "Pages", "Status", "Added", "Problems"]
    row = [model.index(2, c).data() for c in Column]
    assert row[0] == "scan.pdf" and row[1] == "PDF" and row[3] == "Failed"
    assert "scan" in row[5]
    assert model.index(2, Column.PROBLEMS).data(Qt.ItemDataRole.ToolTipRole) == DOCS[2].error
    assert model.index(0, 0).data(DOC_ID_ROLE) == 1


def test_proxy_sorts_numbers_as_numbers_and_filters() -> None:
    model = DocumentsModel()
    model.set_documents(DOCS)
    proxy = DocumentsFilter()
    proxy.setSourceModel(model)
    proxy.sort(Column.PAGES, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, Column.NAME).data() for r in range(proxy.rowCount())] == [
        "Appendix.txt", "lease.pdf", "memo.docx", "scan.pdf"]
    proxy.sort(Column.NAME, Qt.SortOrder.AscendingOrder)  # case-insensitive
    assert proxy.index(0, Column.NAME).data() == "Appendix.txt"
    proxy.setFilterFixedString("FAILED")
    assert proxy.rowCount() == 1 and proxy.index(0, Column.NAME).data() == "scan.pdf"
    proxy.setFilterFixedString("pdf")
    assert proxy.rowCount() == 2


def test_pages_read_by_ocr_say_so_with_how_sure() -> None:
    from dataclasses import replace

    mixed = replace(_doc(5, "signed.pdf", 3), ocr_pages=((3, 58.0),))
    fax = replace(_doc(6, "fax.pdf", 1), ocr_pages=((1, 93.4),))
    model = DocumentsModel()
    model.set_documents([mixed, fax, DOCS[0]])
    assert [model.index(r, Column.PAGES).data() for r in range(3)] == ["3 · 1 OCR", "1 · OCR", "12"]
    tip = model.index(0, Column.PAGES).data(Qt.ItemDataRole.ToolTipRole)
    assert "page 3: 58% (check this page against the original)" in tip
    assert model.index(1, Column.PAGES).data(Qt.ItemDataRole.ToolTipRole).endswith("page 1: 93%")
    assert model.index(2, Column.PAGES).data(Qt.ItemDataRole.ToolTipRole) is None
    proxy = DocumentsFilter()
    proxy.setSourceModel(model)
    proxy.setFilterFixedString("ocr")  # the scans, found by typing
    assert proxy.rowCount() == 2
