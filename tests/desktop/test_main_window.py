"""The main window end to end: drop, ingest, ask, stream, stop, cite, view."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl

from desktop.chat_store import ChatStore
from rag.types import DocStatus
from tests.desktop.helpers import drop_and_wait
from tests.helpers.pdfs import make_encrypted_pdf, make_text_pdf

pytestmark = pytest.mark.gui

QUESTION = "How can either party terminate the agreement?"


def _visible(text: str) -> str:
    """Text without whitespace and control characters (the tiny model emits junk bytes)."""
    return "".join(c for c in text if c.isprintable() and not c.isspace())


def test_drop_starts_ingest_and_fills_table(qtbot, window, sample_pdf: Path) -> None:
    job = drop_and_wait(qtbot, window, [sample_pdf])
    assert job.result is not None and not job.result.failed
    model = window.documents.model
    assert model.rowCount() == 1
    doc = model.document(0)
    assert doc.name == "sample-mutual-nda.pdf" and doc.status is DocStatus.READY and doc.pages == 2
    assert window.library == "My documents"  # created on the first drop
    assert "1 added" in window.documents.result_label.text()


def test_bad_files_show_their_reason(qtbot, window, tmp_path: Path, sample_pdf: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    locked = make_encrypted_pdf(tmp_path / "locked.pdf", sample_pdf)
    drop_and_wait(qtbot, window, [empty, locked])
    model = window.documents.model
    problems = {model.document(r).name: model.document(r).error for r in range(model.rowCount())}
    assert set(problems) == {"empty.pdf", "locked.pdf"}
    assert all(model.document(r).status is DocStatus.FAILED for r in range(model.rowCount()))
    assert "password" in problems["locked.pdf"]
    assert problems["empty.pdf"]
    shown = [model.index(r, 5).data() for r in range(model.rowCount())]
    assert sorted(shown) == sorted(problems.values())
    assert "could not be read" in window.documents.result_label.text()


def test_cancel_stops_an_ingest(qtbot, window, tmp_path: Path) -> None:
    files = [make_text_pdf(tmp_path / f"doc{i}.pdf", [[f"Clause {i}.{j} text about topic {j}." for j in range(40)]])
             for i in range(12)]
    with qtbot.waitSignal(window.ingest_started) as started:
        window.add_paths(files)
    job = started.args[0]
    job.progressed.connect(lambda _p: window.documents.cancel_btn.click())
    with qtbot.waitSignal(job.ended, timeout=60_000):
        pass
    assert job.token.is_set
    assert job.result is None or job.result.cancelled
    qtbot.waitUntil(lambda: window.documents.job is None)
    assert window.documents.model.rowCount() < len(files)


def test_drop_during_ingest_is_queued_then_added(qtbot, window, tmp_path: Path) -> None:
    first = [make_text_pdf(tmp_path / f"first{i}.pdf", [[f"Clause {i}.{j} about topic {j}." for j in range(40)]])
             for i in range(4)]
    later = [make_text_pdf(tmp_path / f"later{i}.pdf", [[f"Section {i} says thing {i}."]]) for i in range(2)]
    jobs = []
    window.ingest_started.connect(jobs.append)
    window.add_paths(first)
    assert window.add_paths(later[:1]) is None  # queued, not refused
    assert window.add_paths(later[1:]) is None
    assert window.queued_count() == 2
    assert "2 more waiting" in window.documents.progress_label.text()
    qtbot.waitUntil(lambda: len(jobs) == 2, timeout=60_000)  # both queued drops: one batch
    qtbot.waitUntil(lambda: window.documents.job is None and not jobs[1].running, timeout=60_000)
    assert not window.queued
    names = {window.documents.model.document(r).name for r in range(window.documents.model.rowCount())}
    assert names == {p.name for p in first + later}


def test_cancel_also_drops_what_was_waiting(qtbot, window, tmp_path: Path) -> None:
    files = [make_text_pdf(tmp_path / f"doc{i}.pdf", [[f"Clause {i}.{j} text about topic {j}." for j in range(40)]])
             for i in range(8)]
    waiting = make_text_pdf(tmp_path / "waiting.pdf", [["Never added."]])
    with qtbot.waitSignal(window.ingest_started) as started:
        window.add_paths(files)
    window.add_paths([waiting])
    job = started.args[0]
    window.documents.cancel_btn.click()
    qtbot.waitUntil(lambda: window.documents.job is None and not job.running, timeout=60_000)
    qtbot.wait(200)
    assert not window.queued and window.documents.job is None
    names = {window.documents.model.document(r).name for r in range(window.documents.model.rowCount())}
    assert "waiting.pdf" not in names


def test_answer_streams_and_citation_opens_viewer(qtbot, window, sample_pdf: Path) -> None:
    drop_and_wait(qtbot, window, [sample_pdf])
    pieces: list[str] = []
    shown: list[bool] = []

    def on_piece(piece: object) -> None:
        if not isinstance(piece, str):  # the quotes, once, before the first token
            return
        pieces.append(piece)
        so_far, view = _visible("".join(pieces)), _visible(window.chat.transcript.toPlainText())
        shown.append(view.endswith(so_far[-12:]))

    with qtbot.waitSignal(window.chat.answered, timeout=60_000) as answered:
        job = window.chat.ask(QUESTION)
        assert job is not None
        job.progressed.connect(on_piece)
    ex = answered.args[0]
    assert len(pieces) > 1 and all(shown)
    # The stored answer is what streamed (the engine may add a note once it has checked it).
    assert ex.answer.startswith("".join(pieces).strip())
    assert ex.sources and not ex.error
    # The transcript links each source; clicking [n] opens the viewer at its page.
    html = window.chat.transcript.toHtml()
    assert 'href="passage:0:1"' in html
    src = ex.sources[0]
    with qtbot.waitSignal(window.viewer.opened) as opened:
        window.chat.transcript.anchorClicked.emit(QUrl(f"cite:0:{src.n}"))
    assert opened.args == [src.file, src.page]
    assert window.viewer.current_page == src.page
    viewer = window.viewer
    assert viewer.stack.currentWidget() is viewer.pdf_view  # a PDF opens in the QPdfView
    assert viewer.pdf_view.pageNavigator().currentPage() == src.page - 1
    assert viewer.highlights  # the passage was found on the page by the search model
    assert viewer.search_model.resultsOnPage(src.page - 1)
    assert viewer.search_model.resultAtIndex(viewer.pdf_view.currentSearchResultIndex()).page() == src.page - 1
    # The chat was saved in the library folder.
    stored = ChatStore(window.engine.folders.path(window.library), window.engine.folders.open(window.library).files).current()
    assert stored.exchanges[-1].sources[0].page == src.page


def test_stop_halts_generation(qtbot, window, sample_pdf: Path, monkeypatch) -> None:
    drop_and_wait(qtbot, window, [sample_pdf])
    qtbot.waitUntil(lambda: window.engine.generator is not None, timeout=30_000)
    gen = window.engine.generator
    real_stream = gen.stream

    def paced_stream(*args, **kwargs):  # the tiny model is faster than any reader; pace it
        for piece in real_stream(*args, **kwargs):
            time.sleep(0.005)
            yield piece

    monkeypatch.setattr(gen, "stream", paced_stream)
    pieces: list[str] = []
    with qtbot.waitSignal(window.chat.answered, timeout=60_000) as answered:
        job = window.chat.ask(QUESTION)
        assert job is not None
        job.progressed.connect(lambda p: isinstance(p, str) and (pieces.append(p), window.stop()))
    ex = answered.args[0]
    assert ex.stopped
    assert 1 <= len(pieces) < 100  # unstopped, the tiny model writes 256 tokens
    assert not window.chat.busy and window.chat.ask_btn.isEnabled()
    assert "(stopped)" in window.chat.transcript.toPlainText()


def test_text_source_opens_in_text_view(qtbot, window, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Intro line.\n\nThe notice period for termination is thirty days.\n", encoding="utf-8")
    drop_and_wait(qtbot, window, [note])
    passage = window.engine.folders.open(window.library).search("notice period", 1)[0]
    from desktop.chat_store import SourceRef

    window.viewer.show_source(SourceRef(1, passage.file, passage.page, passage.start, passage.end,
                                        passage.text, passage.doc_id, passage.path))
    assert window.viewer.stack.currentWidget() is window.viewer.text_view
    from PySide6.QtGui import QTextCursor

    view = window.viewer.text_view
    text = view.toPlainText()
    assert view.textCursor().position() == passage.start
    cursor = QTextCursor(view.document())
    cursor.setPosition(text.index("thirty days") + 1)
    assert cursor.charFormat().background().color().alpha() > 0  # highlighted


def test_libraries_create_rename_delete(qtbot, window, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    panel = window.libraries
    panel.create_library("Smith v Jones")
    assert window.library == "Smith v Jones"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Smith v Jones (2026)", True))
    panel.ask_rename()
    assert window.library == "Smith v Jones (2026)"
    assert window.engine.folders.path("Smith v Jones (2026)").is_dir()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.ask_delete()
    assert "Smith v Jones (2026)" not in window.engine.folders.names()


def test_controls_have_accessible_names(window) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLineEdit, QPlainTextEdit

    controls = [w for cls in (QAbstractButton, QLineEdit, QPlainTextEdit) for w in window.findChildren(cls)]
    unnamed = [w for w in controls if w.isVisible() and not (w.accessibleName() or getattr(w, "text", lambda: "")())]
    assert not unnamed, [type(w).__name__ for w in unnamed]
