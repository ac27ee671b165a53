"""The source viewer: a cited passage, or just a quote's sentences, shown in its
document, highlighted (the viewer highlights whatever range a :class:`SourceRef` holds;
a quote opens as a SourceRef of exactly its sentences).

PDFs open in a QPdfView (QtPdf, the pdfium that the engine also extracts text with, so
both agree on what is on the page) at the cited page. The passage is located on that
page with a QPdfSearchModel: pdfium's search matches words across line breaks, so the
whole passage is tried first, then the longest run of its consecutive lines, then short
runs of words; the chosen run becomes the view's search string, which QPdfView paints
on the page, with the cited occurrence framed. Other formats show the page's extracted
text in a QTextBrowser with the passage highlighted by its character offsets.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtPdf import QPdfDocument, QPdfSearchModel
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.chat_store import SourceRef
from desktop.widgets import button
from rag.ingest.attachments import SEPARATOR as ATTACHMENT
from rag.ingest.locations import cite

HIGHLIGHT = QColor(255, 200, 0, 110)
PageText = Callable[[int, int], str]  # (doc_id, page) -> the page's extracted text
MIN_RUN = 8  # shorter search strings ("3.2", "the") match in too many places
WORD_RUN = 7  # words in a fallback run when no whole line of the passage matches
ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 6.0


def passage_lines(text: str, limit: int = 80) -> list[str]:
    """The passage's lines, whitespace collapsed, that are long enough to search for."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return [line for line in lines if len(line) >= 4][:limit]


def locate_passage(hits: Callable[[str], int], passage: str) -> str:
    """The longest search string taken from ``passage`` for which ``hits`` (the number
    of matches on the page) is positive, or "" when none matches.

    Tries the whole passage, then runs of consecutive lines (greedily extended), then
    runs of ``WORD_RUN`` words from each line (a line can differ from the page where
    the extractor joined a hyphenated word or the PDF splits a line oddly)."""
    whole = " ".join(passage.split())
    if len(whole) < MIN_RUN:
        return whole if whole and hits(whole) else ""
    if hits(whole):
        return whole
    lines = passage_lines(passage)
    best = ""
    i = 0
    while i < len(lines):
        if len(lines[i]) < MIN_RUN or not hits(lines[i]):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and hits(" ".join(lines[i:j + 1])):
            j += 1
        run = " ".join(lines[i:j])
        if len(run) > len(best):
            best = run
        i = j
    if best:
        return best
    for line in lines:
        words = line.split()
        for k in range(0, max(1, len(words) - WORD_RUN + 1), WORD_RUN):
            run = " ".join(words[k:k + WORD_RUN])
            if len(run) >= MIN_RUN and hits(run):
                return run
    return ""


INTRO = "Click a citation such as [1] to see the passage in its document."

class SourceViewer(QWidget):
    """Shows one source at a time; ``opened`` fires with (file, page) once it is shown.

    ``highlights`` holds where the passage was found: for a PDF, its rectangles on the
    cited page in PDF points; for text, the (start, length) of the highlighted span."""

    opened = Signal(str, int)

    def __init__(self, page_text: PageText, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._page_text = page_text
        self.source: SourceRef | None = None
        self.current_page = 0
        self.page_count = 0
        self.highlights: list[QRectF] = []
        self._pdf_path = ""

        self.title = QLabel(INTRO)
        self.title.setWordWrap(True)
        self.prev_btn = button("◀", "Previous page", slot=lambda: self._show_pdf_page(self.current_page - 1), width=36)
        self.next_btn = button("▶", "Next page", slot=lambda: self._show_pdf_page(self.current_page + 1), width=36)
        self.zoom_out_btn = button("−", "Zoom out", "Zoom out (Ctrl+-)", lambda: self.zoom(1 / ZOOM_STEP), 36)
        self.zoom_in_btn = button("+", "Zoom in", "Zoom in (Ctrl++)", lambda: self.zoom(ZOOM_STEP), 36)
        self.fit_btn = button("Fit width", "Fit the page to the width of the viewer",
                              "Fit the page to the viewer's width (Ctrl+0)", self.fit_width)
        self.fit_btn.setCheckable(True)
        self.fit_btn.setChecked(True)
        self.open_btn = button("Open file", "Open the file in its default application",
                               "Open the document in the application your system uses for it", self._on_open_file)

        self.pdf = QPdfDocument(self)
        self.search_model = QPdfSearchModel(self)  # what the view paints: the passage
        self.search_model.setDocument(self.pdf)
        self._probe = QPdfSearchModel(self)  # tries candidate strings without repainting
        self._probe.setDocument(self.pdf)
        self.pdf_view = QPdfView()
        self.pdf_view.setDocument(self.pdf)
        self.pdf_view.setPageMode(QPdfView.PageMode.SinglePage)
        self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.pdf_view.setSearchModel(self.search_model)
        self.pdf_view.setAccessibleName("Document page")
        self.pdf_view.pageNavigator().currentPageChanged.connect(self._on_page_changed)
        self.text_view = QTextBrowser()
        self.text_view.setAccessibleName("Document text")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.pdf_view)
        self.stack.addWidget(self.text_view)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.prev_btn)
        top.addWidget(self.next_btn)
        top.addWidget(self.zoom_out_btn)
        top.addWidget(self.zoom_in_btn)
        top.addWidget(self.fit_btn)
        top.addWidget(self.open_btn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        for keys, slot in (
            (QKeySequence.StandardKey.ZoomIn, lambda: self.zoom(ZOOM_STEP)),
            ("Ctrl+=", lambda: self.zoom(ZOOM_STEP)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.zoom(1 / ZOOM_STEP)),
            ("Ctrl+0", self.fit_width),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._enable(False)

    # -- zoom ---------------------------------------------------------------------------------
    def zoom_factor(self) -> float:
        """The scale the PDF is drawn at now (1.0 = 100 %), whatever the zoom mode."""
        if self.pdf_view.zoomMode() == QPdfView.ZoomMode.Custom or self.page_count < 1:
            return float(self.pdf_view.zoomFactor())
        # In fit-to-width mode the view computes its own factor: derive it from the page.
        width_pt = self.pdf.pagePointSize(max(0, self.current_page - 1)).width() or 612.0
        margins = self.pdf_view.documentMargins()
        avail = self.pdf_view.viewport().width() - margins.left() - margins.right()
        return max(ZOOM_MIN, avail / (width_pt * self.pdf_view.logicalDpiX() / 72.0))

    def zoom(self, step: float) -> None:
        """Zoom the PDF by ``step`` (e.g. 1.25 in, 0.8 out), keeping the cited passage in view."""
        if self.stack.currentWidget() is not self.pdf_view:
            self.text_view.zoomIn(1 if step > 1 else -1)
            return
        factor = min(ZOOM_MAX, max(ZOOM_MIN, self.zoom_factor() * step))
        self.pdf_view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.pdf_view.setZoomFactor(factor)
        self.fit_btn.setChecked(False)
        self._after_zoom()

    def fit_width(self) -> None:
        self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.fit_btn.setChecked(True)
        self._after_zoom()

    def _after_zoom(self) -> None:
        if self.source is not None and self.current_page == self.source.page:
            QTimer.singleShot(0, self._scroll_to_highlight)
        self._enable(self.source is not None)

    def _enable(self, on: bool) -> None:
        self.open_btn.setEnabled(on)
        pdf = on and self.stack.currentWidget() is self.pdf_view
        self.prev_btn.setEnabled(pdf and self.current_page > 1)
        for b in (self.zoom_in_btn, self.zoom_out_btn, self.fit_btn):
            b.setEnabled(on)
        self.next_btn.setEnabled(pdf and self.current_page < self.page_count)

    def clear(self) -> None:
        """Show nothing (a team matter the user may no longer see)."""
        self.source = None
        self.current_page = self.page_count = 0
        self.highlights = []
        self.pdf.close()
        self._pdf_path = ""
        self.text_view.clear()
        self.stack.setCurrentWidget(self.text_view)
        self.title.setText(INTRO)
        self._enable(False)

    def show_source(self, source: SourceRef) -> None:
        self.source = source
        path = Path(source.path)
        if path.suffix.lower() == ".pdf" and path.is_file() and self._load_pdf(path):
            self.stack.setCurrentWidget(self.pdf_view)
            self._show_cited_pdf_page(source)
        else:
            self.stack.setCurrentWidget(self.text_view)
            # An e-mail's attachment has no file of its own to open: its text is the view.
            attachment = ATTACHMENT in source.path
            note = " (cannot open the PDF; showing its text)" if path.suffix.lower() == ".pdf" and not attachment else ""
            self._show_text(source, note=note)
        self.opened.emit(source.file, self.current_page)

    def _title(self, note: str = "") -> None:
        assert self.source is not None
        if not self.page_count and self.source.where:  # text shown: where in the words of its format
            file, where = cite(self.source.file, self.source.where)
            shown = f"<b>{html.escape(file)}</b>" + (f" — {html.escape(where)}" if where else "")
            self.title.setText(shown + note)
            return
        self.title.setText(f"<b>{self.source.file}</b> — page {self.current_page}"
                           + (f" of {self.page_count}" if self.page_count else "") + note)

    def _load_pdf(self, path: Path) -> bool:
        """Open ``path`` in the PDF view (kept open while the same file is shown)."""
        if self._pdf_path == str(path) and self.pdf.status() == QPdfDocument.Status.Ready:
            return True
        self._pdf_path = ""
        self.search_model.setSearchString("")
        self._probe.setSearchString("")
        if self.pdf.load(str(path)) != QPdfDocument.Error.None_ or self.pdf.pageCount() < 1:
            self.pdf.close()
            return False
        self._pdf_path = str(path)
        return True

    def _show_cited_pdf_page(self, source: SourceRef) -> None:
        self.page_count = self.pdf.pageCount()
        index = max(0, min(source.page, self.page_count) - 1)

        def hits(text: str) -> int:
            self._probe.setSearchString(text)
            return len(self._probe.resultsOnPage(index))

        found = locate_passage(hits, source.text) if source.page == index + 1 else ""
        self._probe.setSearchString("")
        self.search_model.setSearchString(found)
        results = self.search_model.resultsOnPage(index) if found else []
        self.highlights = [rect for link in results for rect in link.rectangles()]
        self.pdf_view.setCurrentSearchResultIndex(-1)
        self.pdf_view.pageNavigator().jump(index, QPointF(), self.pdf_view.zoomFactor())
        if results:
            # The cited occurrence: results are numbered across the pages before it.
            first = sum(len(self.search_model.resultsOnPage(p)) for p in range(index))
            self.pdf_view.setCurrentSearchResultIndex(first)
        self.current_page = index + 1
        self._title("" if self.highlights else " (passage not located exactly; see the page)")
        self._enable(True)
        # Once the view has laid the page out at its width, bring the passage into view.
        QTimer.singleShot(0, self._scroll_to_highlight)

    def _scroll_to_highlight(self) -> None:
        if not self.highlights or self.stack.currentWidget() is not self.pdf_view:
            return
        top = min(r.top() for r in self.highlights)
        scale = self.zoom_factor() * self.pdf_view.logicalDpiY() / 72.0  # pixels per point
        y = self.pdf_view.documentMargins().top() + top * scale
        bar = self.pdf_view.verticalScrollBar()
        bar.setValue(max(0, int(y) - 80))

    def _show_pdf_page(self, page: int) -> None:
        """Step to another page of the open PDF (the prev/next buttons)."""
        if self.source is None or self.stack.currentWidget() is not self.pdf_view or not self.page_count:
            return
        page = max(1, min(page, self.page_count))
        self.pdf_view.pageNavigator().jump(page - 1, QPointF(), self.pdf_view.zoomFactor())
        self.current_page = page
        self._title("" if page != self.source.page or self.highlights
                    else " (passage not located exactly; see the page)")
        self._enable(True)

    def _on_page_changed(self, index: int) -> None:
        if self.source is not None and self.stack.currentWidget() is self.pdf_view and index + 1 != self.current_page:
            self.current_page = index + 1
            self._title()
            self._enable(True)

    def _show_text(self, source: SourceRef, note: str = "") -> None:
        try:
            text = self._page_text(source.doc_id, source.page)
        except Exception:  # noqa: BLE001 (the document was removed: show the stored passage)
            text = ""
        start, end = source.start, source.end
        if text and source.text and text[start:end] != source.text:
            # The document changed since the answer: find the wording, else show the stored text.
            found = text.find(source.text)
            start, end = (found, found + len(source.text)) if found >= 0 else (0, len(text) + 1)
        if not text or end > len(text):
            text, start, end = source.text, 0, len(source.text)
        self.page_count = 0
        self.current_page = source.page
        # setPlainText writes in the cursor's current format, which after a highlight is the
        # highlight: without this reset the next page came up highlighted whole.
        self.text_view.setCurrentCharFormat(QTextCharFormat())
        self.text_view.setPlainText(text)

        def utf16(i: int) -> int:  # QTextDocument counts UTF-16 code units
            return len(text[:i].encode("utf-16-le")) // 2

        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(utf16(start))
        cursor.setPosition(utf16(end), QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(HIGHLIGHT)
        cursor.mergeCharFormat(fmt)
        cursor.setPosition(utf16(start))
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()
        self.highlights = [QRectF(start, 0, end - start, 0)]
        self._title(note)
        self._enable(True)
        self.open_btn.setEnabled(bool(source.path))  # a team matter's document has no file here

    def _on_open_file(self) -> None:
        if self.source and self.source.path:  # an attachment opens its message
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.source.path.split(ATTACHMENT)[0]))
