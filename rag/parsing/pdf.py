"""PDF text per page.

Text comes from pdfium (pypdfium2): measured here it extracts CUAD contracts about ten
times faster than pypdf and never hangs on the few pathological files that take pypdf
minutes. pypdf is kept for what it does better: telling an encrypted file from a corrupt
one, so the user gets the right reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.protocols import ParseError
from rag.types import Page, ParsedDocument

# Chars that pdfium emits for layout rather than content.
_SOFT = str.maketrans({"\r": "\n", "\x00": "", "\ufffe": "", "\x02": "-", "\x0c": "\n"})
_TRAILING_WS = re.compile(r"[ \t]+\n")
_MANY_BLANK = re.compile(r"\n{3,}")


def clean_page_text(text: str) -> str:
    text = text.replace("\r\n", "\n").translate(_SOFT)
    text = _TRAILING_WS.sub("\n", text)
    text = _MANY_BLANK.sub("\n\n", text)
    return text.strip()


def _diagnose(path: Path, err: Exception) -> str:
    """Turn a pdfium failure into a reason a user understands, using pypdf to look closer."""
    msg = str(err).lower()
    if "password" in msg or "security" in msg:
        return "the PDF is password-protected (encrypted); remove the password and add it again"
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            return "the PDF is password-protected (encrypted); remove the password and add it again"
    except Exception:  # noqa: BLE001 (any pypdf failure means: damaged)
        pass
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF" not in head:
        return "not a PDF file (its contents do not start like a PDF), although its name ends in .pdf"
    return "the PDF is damaged and cannot be read"


class PdfParser:
    kinds: tuple[str, ...] = ("pdf",)

    def parse(self, path: Path) -> ParsedDocument:
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(str(path))
        except Exception as err:  # noqa: BLE001 (pdfium raises its own error types)
            raise ParseError(_diagnose(path, err)) from err
        try:
            pages: list[Page] = []
            for i in range(len(pdf)):
                page = pdf[i]
                textpage = page.get_textpage()
                try:
                    raw = textpage.get_text_bounded()
                finally:
                    textpage.close()
                    page.close()
                pages.append(Page(i + 1, clean_page_text(raw)))
            title = ""
            try:
                title = (pdf.get_metadata_dict().get("Title") or "").strip()
            except Exception:  # noqa: BLE001 (metadata is optional)
                title = ""
        finally:
            pdf.close()
        if not pages:
            raise ParseError("the PDF has no pages")
        if not any(p.text.strip() for p in pages):
            raise ParseError(
                f"no text layer found in {len(pages)} page(s): it looks like a scan; "
                "run it through OCR first"
            )
        return ParsedDocument(pages=pages, kind="pdf", title=title)
