"""The source viewer: a cited passage shown in its document, highlighted.

PDF pages are rendered with pdfium (pypdfium2, which the engine already uses to extract
the text, so both agree on what is on the page) and the passage is found on the page
line by line with pdfium's text search and painted over. This PySide6 build ships no
QtPdf module, so QPdfView is not an option. Other formats show the page's extracted text
in a QTextBrowser with the passage selected by its character offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QImage, QPainter, QPixmap, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.chat_store import SourceRef

HIGHLIGHT = QColor(255, 200, 0, 110)
PageText = Callable[[int, int], str]  # (doc_id, page) -> the page's extracted text


def passage_lines(text: str, limit: int = 80) -> list[str]:
    """The passage's lines worth searching for: pdfium finds text within a line reliably."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return [line for line in lines if len(line) >= 4][:limit]


def render_pdf_page(path: Path, page: int, width: float, passage: str) -> tuple[QImage, list[QRectF], int]:
    """Render ``page`` (1-based) ``width`` pixels wide; return the image, the passage's
    rectangles in image pixels, and the document's page count."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        count = len(pdf)
        pg = pdf[max(0, min(page, count) - 1)]
        page_width, height = pg.get_size()
        scale = max(0.3, min(width / max(page_width, 1.0), 6.0))
        bitmap = pg.render(scale=scale, rev_byteorder=True)
        image = QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                       QImage.Format.Format_RGB888).copy()
        rects: list[QRectF] = []
        textpage = pg.get_textpage()
        try:
            for line in passage_lines(passage):
                searcher = textpage.search(line, match_case=False)
                hit = searcher.get_next()
                searcher.close()
                if not hit:
                    continue
                index, n = hit
                for i in range(textpage.count_rects(index, n)):
                    left, bottom, right, top = textpage.get_rect(i)
                    rects.append(QRectF(left * scale, (height - top) * scale,
                                        (right - left) * scale, (top - bottom) * scale))
        finally:
            textpage.close()
            pg.close()
    finally:
        pdf.close()
    return image, rects, count


class SourceViewer(QWidget):
    """Shows one source at a time; ``opened`` fires with (file, page) once it is shown."""

    opened = Signal(str, int)

    def __init__(self, page_text: PageText, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._page_text = page_text
        self.source: SourceRef | None = None
        self.current_page = 0
        self.page_count = 0
        self.highlights: list[QRectF] = []

        self.title = QLabel("Click a citation such as [1] to see the passage in its document.")
        self.title.setWordWrap(True)
        self.prev_btn = QPushButton("◀")
        self.next_btn = QPushButton("▶")
        self.open_btn = QPushButton("Open file")
        self.prev_btn.setAccessibleName("Previous page")
        self.next_btn.setAccessibleName("Next page")
        self.open_btn.setAccessibleName("Open the file in its default application")
        self.open_btn.setToolTip("Open the document in the application your system uses for it")
        for b in (self.prev_btn, self.next_btn):
            b.setFixedWidth(36)
        self.prev_btn.clicked.connect(lambda: self._show_pdf_page(self.current_page - 1))
        self.next_btn.clicked.connect(lambda: self._show_pdf_page(self.current_page + 1))
        self.open_btn.clicked.connect(self._on_open_file)

        self.page_label = QLabel()
        self.page_scroll = QScrollArea()
        self.page_scroll.setWidget(self.page_label)
        self.page_scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.page_scroll.setAccessibleName("Document page")
        self.text_view = QTextBrowser()
        self.text_view.setAccessibleName("Document text")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.page_scroll)
        self.stack.addWidget(self.text_view)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.prev_btn)
        top.addWidget(self.next_btn)
        top.addWidget(self.open_btn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self._enable(False)

    def _enable(self, on: bool) -> None:
        self.open_btn.setEnabled(on)
        pdf = on and self.stack.currentWidget() is self.page_scroll
        self.prev_btn.setEnabled(pdf and self.current_page > 1)
        self.next_btn.setEnabled(pdf and self.current_page < self.page_count)

    def show_source(self, source: SourceRef) -> None:
        self.source = source
        path = Path(source.path)
        if path.suffix.lower() == ".pdf" and path.is_file():
            self.stack.setCurrentWidget(self.page_scroll)
            self._show_pdf_page(source.page)
        else:
            self.stack.setCurrentWidget(self.text_view)
            self._show_text(source)
        self.opened.emit(source.file, self.current_page)

    def _title(self, note: str = "") -> None:
        assert self.source is not None
        self.title.setText(f"<b>{self.source.file}</b> — page {self.current_page}"
                           + (f" of {self.page_count}" if self.page_count else "") + note)

    def _show_pdf_page(self, page: int) -> None:
        if self.source is None:
            return
        cited = page == self.source.page
        dpr = self.devicePixelRatioF() or 1.0
        # Fit the page to the panel's width (at least a readable size), sharp on high-DPI.
        width = max(480, self.page_scroll.viewport().width() - 24) * dpr
        try:
            image, rects, self.page_count = render_pdf_page(
                Path(self.source.path), page, width, self.source.text if cited else "")
        except Exception as err:  # noqa: BLE001 (a damaged or moved file: fall back to text)
            self.stack.setCurrentWidget(self.text_view)
            self._show_text(self.source, note=f" (cannot render the PDF: {err})")
            return
        self.current_page = max(1, min(page, self.page_count))
        self.highlights = rects
        painter = QPainter(image)
        if rects:
            for r in rects:
                painter.fillRect(r.adjusted(-2, -2, 2, 2), HIGHLIGHT)
        elif cited:
            # The passage could not be located on the page: mark the whole page instead.
            painter.setPen(QColor(255, 170, 0))
            painter.drawRect(image.rect().adjusted(2, 2, -3, -3))
        painter.end()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(dpr)
        self.page_label.setPixmap(pixmap)
        self.page_label.resize(pixmap.deviceIndependentSize().toSize())
        self._title("" if rects or not cited else " (passage not located exactly; see the page)")
        self._enable(True)
        if rects:
            y = int(rects[0].top() / dpr)
            self.page_scroll.verticalScrollBar().setValue(max(0, y - 80))

    def _show_text(self, source: SourceRef, note: str = "") -> None:
        try:
            text = self._page_text(source.doc_id, source.page)
        except Exception:  # noqa: BLE001 (the document was removed: show the stored passage)
            text = ""
        start, end = source.start, source.end
        if not text or end > len(text):
            text, start, end = source.text, 0, len(source.text)
        self.page_count = 0
        self.current_page = source.page
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

    def _on_open_file(self) -> None:
        if self.source and self.source.path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.source.path))
