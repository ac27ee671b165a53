"""The Review view with real parts: a real encrypted library and embedder, the job runner,
the engine's review, the viewer. Cells fill in as they are computed, Cancel keeps the
finished ones, marks outlive the library being closed, an edited column is the only one
computed again, exports read back, and a click shows the quote in its document."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.engine import Engine
from desktop.jobs import JobRunner
from desktop.libraries import LibraryFolders
from desktop.review_dialogs import ColumnDialog, OverwriteDialog
from desktop.review_model import FLAGGED, OVERWRITTEN, PENDING, VERIFIED, Role
from desktop.review_view import ReviewPanel
from desktop.viewer import SourceViewer
from rag.ask.review.cells import FOUND, NOT_STATED
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewResult
from tests.rag.test_review import SERVICES, SUPPLY

pytestmark = pytest.mark.gui

LAW = Column("Governing law", "Which law governs this agreement?")
COMPETE = Column("Non-compete", "Is a party restricted from competing?")
TERMINATE = Column("Termination", "Can a party terminate for convenience, without cause?")


@pytest.fixture
def setup(qapp, qtbot, tmp_path: Path, embedder, sample_pdf: Path):
    """A library of two hand-made contracts and the sample NDA (a PDF), and the panel."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "supply.txt").write_text(SUPPLY, encoding="utf-8")
    (docs / "services.txt").write_text(SERVICES, encoding="utf-8")
    runner = JobRunner(log_path=tmp_path / "log.txt")
    folders = LibraryFolders(tmp_path / "libraries", embedder)
    engine = Engine(runner, folders, tmp_path / "models")
    name = folders.create("Matter")
    folders.open(name).ingest([docs / "supply.txt", docs / "services.txt", sample_pdf])
    panel = _panel(qtbot, engine, name)
    yield engine, name, panel, docs
    runner.shutdown()
    folders.close_all()


def _panel(qtbot, engine: Engine, name: str) -> ReviewPanel:
    panel = ReviewPanel(engine)
    qtbot.addWidget(panel)
    panel.resize(1000, 500)
    panel.set_library(name)
    return panel


def _run(qtbot, panel: ReviewPanel, columns: list[Column], run: list[Column] | None = None) -> ReviewResult:
    with qtbot.waitSignal(panel.ran, timeout=120_000) as ran:
        panel.commands.set_columns(columns, run=run if run is not None else columns)
    return ran.args[0]


def _focus(qtbot, panel: ReviewPanel) -> None:
    """Keys reach the grid's shortcuts only in the active window, with the grid focused."""
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=5_000)
    panel.table.setFocus()
    qtbot.waitUntil(panel.table.hasFocus, timeout=5_000)


def _index(panel: ReviewPanel, file: str, column: str):
    model = panel.model
    row = next(i for i, d in enumerate(model.documents) if d.name.endswith(file))
    col = [c.name for c in model.columns].index(column) + 1
    return panel.proxy.mapFromSource(model.index(row, col))


def test_cells_fill_in_as_they_are_computed(qtbot, setup) -> None:
    _engine, _name, panel, _docs = setup
    panel.show()
    filled: list[int] = []
    with qtbot.waitSignal(panel.ran, timeout=120_000) as ran:
        panel.commands.set_columns([LAW, COMPETE], run=[LAW, COMPETE])
        assert panel.job is not None  # off the UI thread: the call returns at once
        assert _index(panel, "supply.txt", "Governing law").data(Role.STATUS) == PENDING
        panel.job.progressed.connect(lambda _v: filled.append(sum(
            1 for d in panel.model.documents for c in panel.model.columns if panel.model.cell(d.id, c))))
    result = ran.args[0]
    assert result.computed == 6 and not result.cancelled
    assert filled[0] < 6 and filled[-1] == 6  # cells showed up before the run ended
    assert _index(panel, "supply.txt", "Governing law").data() == "Delaware"
    assert _index(panel, "services.txt", "Governing law").data() == "New York"
    assert _index(panel, "supply.txt", "Non-compete").data(Role.STATUS) == FOUND
    assert _index(panel, "services.txt", "Non-compete").data() == "Not stated"
    assert "Done: " in panel.status.text()
    assert not panel.cancel_btn.isVisible()


def test_cancel_stops_and_keeps_finished_cells(qtbot, setup) -> None:
    from rag.ask.review.columns import CONTRACT_REVIEW

    _engine, _name, panel, _docs = setup
    panel.show()
    with qtbot.waitSignal(panel.ran, timeout=120_000) as ran:
        panel.commands.set_columns(list(CONTRACT_REVIEW), run=list(CONTRACT_REVIEW))
        assert panel.job is not None
        panel.job.progressed.connect(lambda _v: panel.cancel())
    result = ran.args[0]
    assert result.cancelled
    kept = [(d.id, c) for d in panel.model.documents for c in panel.model.columns if panel.model.cell(d.id, c)]
    assert 0 < len(kept) < 36 and len(kept) == len(result.cells)
    assert panel.model.counts()[PENDING] == 0  # nothing is left looking busy
    assert "Stopped" in panel.status.text()
    # Run again: the kept cells come from the cache, the rest are computed.
    with qtbot.waitSignal(panel.ran, timeout=180_000) as again:
        panel.run()
    assert again.args[0].cached >= len(kept) and len(again.args[0].cells) == 36


def test_marks_persist_and_are_audited(qtbot, setup, monkeypatch) -> None:
    engine, name, panel, _docs = setup
    _run(qtbot, panel, [LAW, COMPETE])
    table = panel.table
    _focus(qtbot, panel)
    table.setCurrentIndex(_index(panel, "supply.txt", "Governing law"))
    qtbot.keyClick(table, Qt.Key.Key_V)
    table.setCurrentIndex(_index(panel, "services.txt", "Non-compete"))
    qtbot.keyClick(table, Qt.Key.Key_F)
    table.setCurrentIndex(_index(panel, "services.txt", "Governing law"))
    monkeypatch.setattr(OverwriteDialog, "exec", lambda self: 1)
    monkeypatch.setattr(OverwriteDialog, "values", lambda self: ("State of New York", "checked against the signed copy"))
    qtbot.keyClick(table, Qt.Key.Key_F2)
    assert _index(panel, "supply.txt", "Governing law").data(Role.MARK) == VERIFIED
    assert _index(panel, "services.txt", "Governing law").data() == "State of New York"

    engine.folders.close(name)  # what was kept is in the library, not in the panel
    again = _panel(qtbot, engine, name)
    with qtbot.waitSignal(again.ran, timeout=60_000) as ran:
        again.show()  # the saved grid opens and runs (its cells come from the cache)
    assert ran.args[0].computed == 0
    assert [c.name for c in again.model.columns] == ["Governing law", "Non-compete"]
    assert _index(again, "supply.txt", "Governing law").data(Role.MARK) == VERIFIED
    assert _index(again, "services.txt", "Non-compete").data(Role.MARK) == FLAGGED
    cell = _index(again, "services.txt", "Governing law")
    assert cell.data(Role.MARK) == OVERWRITTEN and cell.data() == "State of New York"
    assert "checked against the signed copy" in cell.data(Qt.ItemDataRole.ToolTipRole)
    log = (engine.folders.path(name) / "audit.log").read_text(encoding="utf-8", errors="replace")
    assert log.count("review cell marked") == 3
    # V again on a verified cell takes the mark away.
    _focus(qtbot, again)
    again.table.setCurrentIndex(_index(again, "supply.txt", "Governing law"))
    qtbot.keyClick(again.table, Qt.Key.Key_V)
    assert _index(again, "supply.txt", "Governing law").data(Role.MARK) == ""


def test_editing_a_column_recomputes_that_column_only(qtbot, setup, monkeypatch) -> None:
    _engine, _name, panel, _docs = setup
    _run(qtbot, panel, [LAW, COMPETE])
    before = {d.id: panel.model.cell(d.id, LAW) for d in panel.model.documents}
    edited = Column("Non-compete", "Is either party prohibited from competing with the other?")
    monkeypatch.setattr(ColumnDialog, "exec", lambda self: 1)
    monkeypatch.setattr(ColumnDialog, "column", lambda self: edited)
    with qtbot.waitSignal(panel.ran, timeout=120_000) as ran:
        panel.commands.edit_column(1)
    result = ran.args[0]
    assert [c.name for c in result.columns] == ["Non-compete"] and result.computed == 3
    assert panel.model.columns == [LAW, edited]
    assert all(panel.model.cell(d.id, LAW) is before[d.id] for d in panel.model.documents)  # untouched
    assert panel.lib().saved_grid("Review").columns == [(LAW.name, LAW.question), (edited.name, edited.question)]
    # The whole grid again: nothing left to compute.
    with qtbot.waitSignal(panel.ran, timeout=60_000) as whole:
        panel.run()
    assert whole.args[0].computed == 0 and whole.args[0].cached == 6


def test_a_new_document_gets_its_row(qtbot, setup, tmp_path: Path) -> None:
    engine, name, panel, docs = setup
    panel.show()
    _run(qtbot, panel, [LAW])
    extra = docs / "licence.txt"
    extra.write_text("LICENCE AGREEMENT\n\n9. Governing Law. This Agreement is governed by the laws of England.\n",
                     encoding="utf-8")
    engine.folders.open(name).ingest([extra])
    with qtbot.waitSignal(panel.ran, timeout=60_000) as ran:
        panel.refresh_documents()
    assert ran.args[0].computed == 1 and ran.args[0].cached == 3
    assert _index(panel, "licence.txt", "Governing law").data() == "England"


def test_exports_read_back(qtbot, setup, tmp_path: Path) -> None:
    from docx import Document
    from openpyxl import load_workbook

    _engine, _name, panel, _docs = setup
    _run(qtbot, panel, [LAW, COMPETE])
    supply = _index(panel, "supply.txt", "Governing law")
    src = panel.proxy.mapToSource(supply)
    doc_id = panel.model.documents[src.row()].id
    panel.commands.mark([(doc_id, LAW)], VERIFIED, note="read it")

    xlsx = panel.commands.export("xlsx", tmp_path / "grid.xlsx")
    assert xlsx is not None
    ws = load_workbook(xlsx)["Review"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    supply_row = next(r for k, r in rows.items() if k.endswith("supply.txt"))
    assert [c.value for c in ws[1]][:3] == ["Document", "Governing law", "Governing law: quote"]
    assert supply_row[1].value == "Delaware" and "laws of" in supply_row[2].value
    assert "verified: read it" in supply_row[1].comment.text
    assert supply_row[1].fill.fgColor.rgb.endswith("C6EFCE")
    services_row = next(r for k, r in rows.items() if k.endswith("services.txt"))
    assert services_row[3].value == "Not stated"

    out = panel.commands.export("csv", tmp_path / "grid.csv")
    assert out is not None
    with out.open(encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    law = next(r for r in lines if r["file"].endswith("supply.txt") and r["column"] == "Governing law")
    assert law["answer"] == "Delaware" and law["mark"] == "verified" and law["status"] == FOUND
    assert any(r["status"] == NOT_STATED for r in lines)

    memo = panel.commands.export("docx", tmp_path / "memo.docx")
    assert memo is not None
    doc = Document(str(memo))
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Document", "Governing law", "Non-compete"]
    texts = [c.text for row in table.rows for c in row.cells]
    assert any(t.startswith("Delaware") and "verified" in t for t in texts)
    notes = [p for p in doc.part.package.parts if str(p.partname) == "/word/footnotes.xml"]
    assert notes and b"laws of" in notes[0].blob


def test_click_and_enter_open_the_viewer_at_the_quote(qtbot, setup, sample_pdf: Path) -> None:
    engine, name, panel, _docs = setup
    viewer = SourceViewer(lambda doc, page: engine.folders.open(name).page_text(doc, page))
    qtbot.addWidget(viewer)
    panel.source_clicked.connect(viewer.show_source)
    panel.show()
    viewer.show()
    _run(qtbot, panel, [TERMINATE, LAW])
    index = _index(panel, sample_pdf.name, "Termination")
    cell = index.data(Role.CELL)
    assert cell is not None and cell.status == FOUND
    rect = panel.table.visualRect(index)
    with qtbot.waitSignal(viewer.opened, timeout=10_000) as opened:
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [sample_pdf.name, cell.quotes[0].passage.page]
    assert viewer.stack.currentWidget() is viewer.pdf_view and viewer.highlights  # the quote, located
    assert viewer.search_model.searchString()
    # Enter on another cell: its quote (a text document's, highlighted by offsets).
    _focus(qtbot, panel)
    panel.table.setCurrentIndex(_index(panel, "supply.txt", "Governing law"))
    with qtbot.waitSignal(viewer.opened, timeout=10_000):
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert viewer.stack.currentWidget() is viewer.text_view
    assert "governed by" in viewer.text_view.textCursor().block().text()


def test_asking_about_selected_rows(qtbot, setup) -> None:
    _engine, _name, panel, _docs = setup
    _run(qtbot, panel, [LAW])
    panel.table.selectRow(_index(panel, "supply.txt", "Governing law").row())
    with qtbot.waitSignal(panel.ask_requested) as asked:
        panel.commands.ask_selected()
    supply = next(d.id for d in panel.model.documents if d.name.endswith("supply.txt"))
    assert asked.args[0] == [supply]


def test_ask_about_chosen_documents_stays_inside_them(qtbot, window, tmp_path: Path) -> None:
    from tests.desktop.helpers import drop_and_wait

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "supply.txt").write_text(SUPPLY, encoding="utf-8")
    (docs / "services.txt").write_text(SERVICES, encoding="utf-8")
    drop_and_wait(qtbot, window, [docs / "supply.txt", docs / "services.txt"])
    services = next(d.id for d in window.engine.folders.open(window.library).documents()
                    if d.name.endswith("services.txt"))
    window.tabs.setCurrentWidget(window.review)
    table = window.documents.table
    row = next(r for r in range(table.model().rowCount()) if table.model().index(r, 0).data() == "services.txt")
    table.selectRow(row)
    next(a for a in table.actions() if a.text().startswith("Ask about")).trigger()  # its context menu
    assert window.tabs.currentWidget() is window.chat
    assert window.chat.scope == [services] and "services.txt" in window.chat.scope_label.text()
    job = window.chat.ask("Which law governs this agreement?")
    assert job is not None
    qtbot.waitSignal(window.chat.answered, timeout=120_000).wait()
    ex = window.chat.last_exchange()
    assert ex is not None and ex.quotes
    assert {q.doc_id for q in ex.quotes} == {services}  # the supply contract is never quoted
    window.chat.scope_clear.click()
    assert window.chat.scope == [] and not window.chat.scope_label.isVisible()


def test_columns_reorder_by_drag_and_menu_and_remove(qtbot, setup, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    _engine, _name, panel, _docs = setup
    panel.commands.set_columns([LAW, COMPETE, TERMINATE], run=[])
    header = panel.table.horizontalHeader()
    header.moveSection(3, 1)  # the header dragged: Termination becomes the first question
    assert panel.model.columns == [TERMINATE, LAW, COMPETE]
    assert [header.logicalIndex(i) for i in range(4)] == [0, 1, 2, 3]  # one order: the grid's
    assert [n for n, _q in panel.lib().saved_grid("Review").columns] == ["Termination", "Governing law", "Non-compete"]
    panel.commands.move_column(0, 1)
    assert panel.model.columns == [LAW, TERMINATE, COMPETE]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.commands.remove_column(1)
    assert panel.model.columns == [LAW, COMPETE]
    assert [n for n, _q in panel.lib().saved_grid("Review").columns] == ["Governing law", "Non-compete"]


def test_a_read_only_library_says_marks_cannot_be_kept(qtbot, setup) -> None:
    _engine, name, panel, _docs = setup
    panel.commands.set_columns([LAW], run=[])
    panel.set_library(name, read_only=True)
    panel.table.setCurrentIndex(_index(panel, "supply.txt", "Governing law"))
    panel.commands.toggle(VERIFIED)
    assert "read-only" in panel.status.text()
    assert panel.model.marks == {} and panel.lib().marks(panel.grid_id or 0) == {}


def test_documents_added_during_a_run_get_their_row_after_the_ingest(qtbot, setup) -> None:
    from rag.ask.review.columns import CONTRACT_REVIEW

    engine, name, panel, docs = setup
    panel.show()
    cols = list(CONTRACT_REVIEW[:4])
    panel.commands.set_columns(cols, run=cols)
    assert panel.job is not None
    extra = docs / "licence.txt"
    extra.write_text("LICENCE AGREEMENT\n\n9. Governing Law. This Agreement is governed by the laws of England.\n",
                     encoding="utf-8")
    ingest = engine.ingest(name, [extra])
    ingest.ended.connect(panel.refresh_documents)  # as the window does on library_changed
    panel.make_way()  # the ingest does not wait for the whole grid
    assert "Paused" in panel.status.text()
    qtbot.waitSignal(ingest.ended, timeout=60_000).wait()
    filled = lambda: panel.job is None and all(  # noqa: E731
        panel.model.cell(d.id, c) for d in panel.model.documents for c in cols)
    qtbot.waitUntil(filled, timeout=180_000)
    assert len(panel.model.documents) == 4
    assert _index(panel, "licence.txt", "Governing law").data() == "England"


def test_a_new_grid_has_its_own_columns_and_the_first_comes_back(qtbot, setup, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    _engine, _name, panel, _docs = setup
    panel.commands.set_columns([LAW], run=[])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Leases", True))
    panel.grids.setCurrentIndex(panel.grids.count() - 1)
    panel.grids.activated.emit(panel.grids.count() - 1)  # "New grid…"
    assert panel.grid_name == "Leases" and panel.grids.currentText() == "Leases"
    assert panel.model.columns == [] and panel.pages.currentIndex() == 0  # the empty state
    panel.commands.set_columns([COMPETE], run=[])
    assert [g.name for g in panel.lib().grids.grids()] == ["Leases", "Review"]
    panel.load_grid("Review")
    assert panel.model.columns == [LAW]


def test_a_mark_that_cannot_be_kept_is_one_line_and_a_logged_traceback(qtbot, setup, monkeypatch) -> None:
    import sqlite3

    engine, _name, panel, _docs = setup
    panel.commands.set_columns([LAW], run=[])
    lib = panel.lib()

    def locked(*_a: object, **_k: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(lib, "mark_cell", locked)
    panel.table.setCurrentIndex(_index(panel, "supply.txt", "Governing law"))
    panel.commands.toggle(VERIFIED)
    assert panel.status.text() == "Could not keep the mark: database is locked"
    assert panel.model.marks == {}
    log = engine.runner.log_path.read_text(encoding="utf-8")
    assert "keeping a review mark failed" in log and "Traceback" in log


def test_deleting_a_grid_forgets_its_columns_and_marks_and_is_audited(qtbot, setup, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    _engine, _name, panel, _docs = setup
    panel.commands.set_columns([LAW], run=[])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Leases", True))
    panel.grids.activated.emit(panel.grids.count() - 1)  # "New grid…"
    panel.commands.set_columns([COMPETE], run=[])
    lib = panel.lib()
    doc = lib.documents()[0].id
    gid = panel.grid_id
    lib.mark_cell(gid, doc, COMPETE.name, "verified")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    panel.commands.delete_grid()
    assert [g.name for g in lib.grids.grids()] == ["Leases", "Review"]  # asked first; kept
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.commands.delete_grid()
    assert [g.name for g in lib.grids.grids()] == ["Review"]
    assert lib.grids.marks(gid) == {}
    assert panel.grid_name == "Review" and panel.model.columns == [LAW]
    assert [panel.grids.itemText(i) for i in range(panel.grids.count())] == ["Review", "New grid…"]
    log = (_engine.folders.path(_name) / "audit.log").read_text(encoding="utf-8", errors="replace")
    assert "review grid deleted" in log
