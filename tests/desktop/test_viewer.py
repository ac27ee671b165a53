"""The source viewer: PDFs in a QPdfView at the cited page with the passage found by
QPdfSearchModel and highlighted; the passage locator on its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from desktop.chat_store import SourceRef
from desktop.viewer import SourceViewer, locate_passage
from tests.helpers.pdfs import make_text_pdf

pytestmark = pytest.mark.gui

CLAUSE = "Either party may terminate this Agreement for convenience by giving"  # page 2 of the sample


def _viewer(qtbot) -> SourceViewer:
    viewer = SourceViewer(lambda _doc, _page: "")
    qtbot.addWidget(viewer)
    viewer.resize(700, 900)
    viewer.show()
    qtbot.waitExposed(viewer)
    return viewer


def _source(path: Path, page: int, text: str) -> SourceRef:
    return SourceRef(1, path.name, page, 0, len(text), text, 1, str(path))


def _highlighted_pixels(viewer: SourceViewer) -> int:
    """Pixels of QPdfView's frame around the current search result (cyan)."""
    image = viewer.pdf_view.viewport().grab().toImage()
    cyan = QColor(0, 255, 255)
    return sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
               if image.pixelColor(x, y) == cyan)


def test_locate_passage_prefers_the_whole_passage() -> None:
    page = "alpha beta gamma delta epsilon zeta eta theta"
    assert locate_passage(lambda s: page.count(s), "alpha beta gamma\ndelta epsilon") == "alpha beta gamma delta epsilon"


def test_locate_passage_takes_the_longest_run_of_lines() -> None:
    page = "one two three four five six seven eight nine ten"
    passage = "one two three\nNOT ON THE PAGE\nfour five six seven\neight nine ten"
    assert locate_passage(lambda s: page.count(s), passage) == "four five six seven eight nine ten"


def test_locate_passage_falls_back_to_word_runs_and_nothing() -> None:
    page = "w1 w2 w3 w4 w5 w6 w7 differs here"
    assert locate_passage(lambda s: page.count(s), "w1 w2 w3 w4 w5 w6 w7 w8 w9") == "w1 w2 w3 w4 w5 w6 w7"
    assert locate_passage(lambda s: page.count(s), "nothing of this is there") == ""


def test_pdf_opens_at_cited_page_with_passage_highlighted(qtbot, sample_pdf: Path) -> None:
    viewer = _viewer(qtbot)
    # Line breaks differ from the PDF's: pdfium's search still matches across them.
    passage = "Either party may terminate this Agreement for\nconvenience by giving thirty (30) days’ prior written notice"
    with qtbot.waitSignal(viewer.opened) as opened:
        viewer.show_source(_source(sample_pdf, 2, passage))
    assert opened.args == [sample_pdf.name, 2]
    assert viewer.stack.currentWidget() is viewer.pdf_view
    assert viewer.current_page == 2 and viewer.page_count == 2
    assert viewer.pdf_view.pageNavigator().currentPage() == 1
    assert viewer.search_model.searchString() == " ".join(passage.split())
    assert len(viewer.search_model.resultsOnPage(1)) == 1
    assert len(viewer.highlights) == 2  # the match spans two lines of the page
    index = viewer.pdf_view.currentSearchResultIndex()
    assert index >= 0 and viewer.search_model.resultAtIndex(index).page() == 1
    assert "not located" not in viewer.title.text()
    qtbot.waitUntil(lambda: _highlighted_pixels(viewer) > 20, timeout=5_000)  # painted on the page


def test_passage_with_a_line_not_on_the_page_is_still_found(qtbot, sample_pdf: Path) -> None:
    viewer = _viewer(qtbot)
    viewer.show_source(_source(sample_pdf, 2, f"{CLAUSE}\nthirty (30) days’ prior written notice\nA heading the chunker added"))
    assert viewer.search_model.searchString() == f"{CLAUSE} thirty (30) days’ prior written notice"
    assert viewer.highlights and viewer.current_page == 2


def test_unlocated_passage_still_shows_the_page(qtbot, sample_pdf: Path) -> None:
    viewer = _viewer(qtbot)
    viewer.show_source(_source(sample_pdf, 2, "Text that appears nowhere in this document at all."))
    assert viewer.current_page == 2 and viewer.pdf_view.pageNavigator().currentPage() == 1
    assert not viewer.highlights and viewer.pdf_view.currentSearchResultIndex() == -1
    assert "not located" in viewer.title.text()
    # The prev/next buttons page through the document.
    assert viewer.prev_btn.isEnabled() and not viewer.next_btn.isEnabled()
    viewer.prev_btn.click()
    assert viewer.current_page == 1 and viewer.pdf_view.pageNavigator().currentPage() == 0
    assert "page 1 of 2" in viewer.title.text()


def test_passage_low_on_a_long_page_is_scrolled_into_view(qtbot, tmp_path: Path) -> None:
    lines = [f"Line {i} of the first page says something about clause {i}." for i in range(60)]
    pdf = make_text_pdf(tmp_path / "long.pdf", [lines, ["Second page."]])
    viewer = _viewer(qtbot)
    viewer.resize(700, 400)
    viewer.show_source(_source(pdf, 1, "\n".join(lines[50:53])))
    assert len(viewer.highlights) == 3
    qtbot.waitUntil(lambda: viewer.pdf_view.verticalScrollBar().value() > 0, timeout=5_000)
    qtbot.waitUntil(lambda: _highlighted_pixels(viewer) > 20, timeout=5_000)


def test_damaged_pdf_falls_back_to_text(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a PDF")
    viewer = SourceViewer(lambda _doc, _page: "The page text with the passage in it.")
    qtbot.addWidget(viewer)
    viewer.show_source(SourceRef(1, "bad.pdf", 1, 19, 30, "the passage", 1, str(bad)))
    assert viewer.stack.currentWidget() is viewer.text_view
    assert viewer.text_view.textCursor().position() == 19
    assert "cannot open the PDF" in viewer.title.text()


def test_zoom_in_out_and_fit_width_keep_the_passage_in_view(qtbot, tmp_path: Path) -> None:
    lines = [f"Line {i} of the first page says something about clause {i}." for i in range(60)]
    pdf = make_text_pdf(tmp_path / "long.pdf", [lines])
    viewer = _viewer(qtbot)
    viewer.resize(700, 400)
    viewer.show_source(_source(pdf, 1, "\n".join(lines[50:53])))
    assert viewer.fit_btn.isChecked() and viewer.zoom_in_btn.isEnabled()
    fitted = viewer.zoom_factor()
    viewer.zoom_in_btn.click()
    assert not viewer.fit_btn.isChecked()
    assert viewer.zoom_factor() == pytest.approx(fitted * 1.25, rel=0.02)
    qtbot.waitUntil(lambda: _highlighted_pixels(viewer) > 20, timeout=5_000)  # still on screen
    viewer.zoom_out_btn.click()
    viewer.zoom_out_btn.click()
    assert viewer.zoom_factor() == pytest.approx(fitted / 1.25, rel=0.02)
    qtbot.waitUntil(lambda: _highlighted_pixels(viewer) > 20, timeout=5_000)
    viewer.fit_btn.click()
    # (the vertical scroll bar may come or go with the zoom: a few pixels of width)
    assert viewer.fit_btn.isChecked() and viewer.zoom_factor() == pytest.approx(fitted, rel=0.05)
    for _ in range(40):  # clamped, never zero or absurd
        viewer.zoom(1 / 1.25)
    assert viewer.zoom_factor() >= 0.25


def test_stale_offsets_are_corrected_by_the_wording(qtbot) -> None:
    """The document changed since the answer: the stored text is found where it now is."""
    viewer = SourceViewer(lambda _doc, _page: "A new first line.\nThe page text with the passage in it.")
    qtbot.addWidget(viewer)
    viewer.show_source(SourceRef(1, "note.txt", 1, 19, 30, "the passage", 1, "/nowhere/note.txt"))
    assert viewer.text_view.textCursor().position() == len("A new first line.\n") + 19


def test_text_source_opens_at_its_format_location(qtbot, tmp_path: Path) -> None:
    """A spreadsheet row and an e-mail's attachment: the title says where in the words of
    the format, the rows are highlighted, and an attachment (no file of its own) shows its
    text without a 'cannot open' note."""
    page = "Client: Brightwater · Amount: 1075\n\nClient: Abernathy Holdings · Amount: 18500"
    viewer = SourceViewer(lambda _doc, _page: page)
    qtbot.addWidget(viewer)
    viewer.show()
    start = page.index("Client: Abernathy")
    row = SourceRef(1, "billing.xlsx", 1, start, len(page), page[start:], 1, str(tmp_path / "billing.xlsx"),
                    where="sheet Invoices, row 3")
    viewer.show_source(row)
    assert "sheet Invoices, row 3" in viewer.title.text() and "page" not in viewer.title.text()
    assert viewer.text_view.textCursor().position() == start
    att = SourceRef(2, "mail.eml › lease.pdf", 1, 0, 8, page[:8], 1, str(tmp_path / "mail.eml::lease.pdf"),
                    where="mail.eml › lease.pdf, page 1")
    viewer.show_source(att)
    assert "mail.eml › lease.pdf, page 1" in viewer.title.text() and "cannot open" not in viewer.title.text()
    assert viewer.title.text().count("lease.pdf") == 1  # the attachment named once


def test_sources_list_names_an_attachment_once() -> None:
    from desktop.chat_render import _where

    assert _where("matter/mail.eml › lease.pdf", "mail.eml › lease.pdf, page 1") == \
        "matter/mail.eml › lease.pdf, page 1"
    assert _where("billing.xlsx", "sheet Invoices, rows 2–14") == "billing.xlsx, sheet Invoices, rows 2–14"
    assert _where("nda.pdf", "page 2") == "nda.pdf, page 2"


def test_a_second_text_source_highlights_its_own_range_only(qtbot) -> None:
    """setPlainText writes with the cursor's current format: after a first highlight, the
    whole next page came up highlighted (seen on a medical report's allergies quote)."""
    page = "HISTORY: Long history.\n\nALLERGIES: He is allergic to Penicillin.\n\nPLAN: Follow up."
    viewer = SourceViewer(lambda _doc, _page: page)
    qtbot.addWidget(viewer)
    start = page.index("ALLERGIES")
    end = page.index("\n\nPLAN")
    for _ in range(2):  # the first time, and after a highlight
        viewer.show_source(SourceRef(1, "note.docx", 1, start, end, page[start:end], 1, "/nowhere/note.docx"))
        def background(i: int) -> bool:
            cursor = QTextCursor(viewer.text_view.document())
            cursor.setPosition(i + 1)  # the format of the character before the position
            return cursor.charFormat().background().style() != Qt.BrushStyle.NoBrush

        assert background(start) and background(end - 1)
        assert not background(0) and not background(len(page) - 1)
