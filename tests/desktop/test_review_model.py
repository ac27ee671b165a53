"""The review grid's model obeys Qt's model contract; cells and marks show as the reviewer
expects; the proxy filters by state and text and sorts by status, then answer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.review_model import FLAGGED, PENDING, ReviewFilter, ReviewModel, Role, quote_tooltip
from rag.ask.review.cells import FAILED, FOUND, NOT_STATED, Cell
from rag.ask.review.columns import Column
from rag.store.grids import Mark
from rag.types import DocStatus, DocumentInfo, Passage, Quote

pytestmark = pytest.mark.gui

LAW = Column("Governing law", "Which law governs this agreement?")
CAP = Column("Liability cap", "Is liability capped?")


def _doc(i: int, name: str) -> DocumentInfo:
    return DocumentInfo(i, f"/d/{name}", name, "pdf", 3, 9, DocStatus.READY, "", 1.7e9, 1000)


def _found(doc: DocumentInfo, col: Column, answer: str, text: str) -> Cell:
    p = Passage(doc.name, 2, 100, 100 + len(text), text, 0.5, doc.id, heading="12 Governing Law", path=doc.path)
    return Cell(doc.id, col, FOUND, answer, [Quote(1, p, 100, 100 + len(text), text, 0.5)], 0.5, True)


DOCS = [_doc(1, "supply.pdf"), _doc(2, "services.pdf"), _doc(3, "lease.pdf")]


@pytest.fixture
def model(qapp) -> ReviewModel:
    m = ReviewModel()
    m.set_documents(DOCS)
    m.set_columns([LAW, CAP])
    m.set_cell(_found(DOCS[0], LAW, "Delaware", "This Agreement is governed by the laws of the State of Delaware."))
    m.set_cell(Cell(2, LAW, NOT_STATED, "", [], 0.1, False))
    m.set_cell(Cell(3, LAW, FAILED, "", [], 0.0, False, error="disk error"))
    m.set_cell(_found(DOCS[1], CAP, "$1,000,000", "Liability shall not exceed $1,000,000 in aggregate."))
    return m


def test_model_contract(qtmodeltester, model: ReviewModel) -> None:
    qtmodeltester.check(model, force_py=True)
    proxy = ReviewFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)


def test_cells_show_answer_status_and_quote(model: ReviewModel) -> None:
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Governing law"
    assert model.index(0, 0).data() == "supply.pdf"
    assert model.index(0, 1).data() == "Delaware"
    assert model.index(1, 1).data() == "Not stated"
    assert model.index(2, 1).data() == "Failed"
    assert model.index(0, 2).data() == ""  # not computed yet
    assert model.index(0, 1).data(Role.STATUS) == FOUND
    assert model.index(1, 1).data(Role.STATUS) == NOT_STATED
    assert model.index(0, 1).data(Qt.ItemDataRole.DecorationRole) is not None
    tip = model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "laws of the State of Delaware" in tip and "supply.pdf" in tip and "page 2" in tip
    assert "disk error" in model.index(2, 1).data(Qt.ItemDataRole.ToolTipRole)


def test_a_cell_arriving_changes_one_index(qtbot, model: ReviewModel) -> None:
    model.set_pending({(3, CAP.question)})
    assert model.index(2, 2).data() == "…" and model.index(2, 2).data(Role.STATUS) == PENDING
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.set_cell(Cell(3, CAP, NOT_STATED, "", [], 0.0, False))
    top, bottom = changed.args[0], changed.args[1]
    assert (top.row(), top.column()) == (bottom.row(), bottom.column()) == (2, 2)
    assert model.index(2, 2).data() == "Not stated"


def test_marks_show_in_the_cell(model: ReviewModel) -> None:
    model.set_mark(1, "Governing law", Mark("", "Governing law", "verified"))
    model.set_mark(2, "Governing law", Mark("", "Governing law", "overwritten", "New York", "in the side letter"))
    assert model.index(0, 1).data(Role.MARK) == "verified"
    assert model.index(0, 1).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(1, 1).data() == "New York"
    tip = model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "in the side letter" in tip and "engine said: Not stated" in tip
    counts = model.counts()
    assert counts["verified"] == 1 and counts["overwritten"] == 1 and counts[FOUND] == 2


def test_filter_by_state_and_text_and_sort_by_status(model: ReviewModel) -> None:
    proxy = ReviewFilter()
    proxy.setSourceModel(model)
    model.set_mark(3, "Liability cap", Mark("", "Liability cap", FLAGGED))
    proxy.set_state(FLAGGED)
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["lease.pdf"]
    proxy.set_state(NOT_STATED)
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["services.pdf"]
    proxy.set_state("")
    proxy.set_text("delaw")
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["supply.pdf"]
    proxy.set_text("")
    proxy.sort(1, Qt.SortOrder.AscendingOrder)
    # Found first, then not stated, then failed.
    assert [proxy.index(r, 1).data() for r in range(3)] == ["Delaware", "Not stated", "Failed"]


def test_renamed_column_keeps_its_cells_and_export_uses_the_new_name(model: ReviewModel) -> None:
    renamed = Column("Law", LAW.question)
    model.set_columns([renamed, CAP])
    assert model.index(0, 1).data() == "Delaware"
    result = model.result()
    assert result.cell(1, "Law") is not None and result.cell(1, "Governing law") is None


def test_tooltip_of_a_cell_not_computed_says_how() -> None:
    assert "run the review" in quote_tooltip(None, None, LAW)


def test_a_grid_of_100_by_12_fills_quickly_behind_a_sorted_filtered_view(qtbot) -> None:
    """Cells arrive one by one into a sorted, filtered view: each changes one index (no
    reset), so a 1,200-cell grid stays responsive."""
    import time

    from PySide6.QtWidgets import QTableView

    docs = [_doc(i, f"contract-{i:03}.pdf") for i in range(1, 101)]
    cols = [Column(f"Q{j}", f"Question number {j}?") for j in range(12)]
    model = ReviewModel()
    model.set_documents(docs)
    model.set_columns(cols)
    proxy = ReviewFilter()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    proxy.set_state(NOT_STATED)
    view.resize(1200, 700)
    view.show()
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    t = time.perf_counter()
    for d in docs:
        for c in cols:
            if (d.id + len(c.name)) % 3:
                model.set_cell(_found(d, c, "Delaware", "governed by the laws of the State of Delaware."))
            else:
                model.set_cell(Cell(d.id, c, NOT_STATED, "", [], 0.0, False))
    qtbot.wait(10)  # the view repaints once the event loop runs
    assert time.perf_counter() - t < 3.0  # ~0.3 s here; the bench's budget per cell is 0.1 s
    assert not resets
    absent = sum(1 for d in docs for c in cols if not (d.id + len(c.name)) % 3)
    assert model.counts()[NOT_STATED] == absent
    assert proxy.rowCount() == len({d.id for d in docs for c in cols if not (d.id + len(c.name)) % 3})


def test_time_left_ignores_the_first_cells_warm_up() -> None:
    from desktop.review_run import ReviewRunning
    from rag.ask.review.engine import ReviewProgress

    run = ReviewRunning()
    run._pace0 = None
    # The first cell took 5 s (index, embedder); the next ones 0.1 s each.
    assert run._eta(ReviewProgress(1, 100, 1, 5.0)) == 0.0
    assert run._eta(ReviewProgress(3, 100, 3, 5.2)) == 0.0  # too few cells to tell
    assert abs(run._eta(ReviewProgress(5, 100, 5, 5.4)) - 9.5) < 1e-6  # not 5.4 / 5 * 95 = 103 s
