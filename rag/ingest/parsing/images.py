"""Scanned pages saved as images (PNG, JPEG, TIFF; a multi-page TIFF is one page per
frame), read by OCR. Pillow refuses decompression bombs itself (``MAX_IMAGE_PIXELS``)."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.parsing import ocr
from rag.protocols import ParseError
from rag.types import Page, ParsedDocument

MAX_FRAMES = 500


def _open(path: Path):  # type: ignore[no-untyped-def]
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
        image.load()
    except UnidentifiedImageError as err:
        raise ParseError("not an image this program can read (damaged or another format)") from err
    except Image.DecompressionBombError as err:
        raise ParseError("the image is far too large (more pixels than any scanned page)") from err
    except OSError as err:
        raise ParseError(f"the image is damaged ({err})"[:160]) from err
    return image


class ImageParser:
    kinds: tuple[str, ...] = ("png", "jpg", "jpeg", "tif", "tiff")

    def parse_text(self, path: Path) -> ParsedDocument:
        """An image has no text layer: every frame needs OCR (done later in a batch)."""
        image = _open(path)
        frames = min(int(getattr(image, "n_frames", 1)), MAX_FRAMES)
        return ParsedDocument(pages=[Page(i + 1, "") for i in range(frames)], kind=path.suffix.lower()[1:],
                              title=path.stem, needs_ocr=tuple(range(1, frames + 1)))

    def parse(self, path: Path) -> ParsedDocument:
        from PIL import ImageSequence

        doc = self.parse_text(path)
        if not ocr.available():
            raise ParseError("this is a picture of a page, and OCR is not available on this computer "
                             "(Tesseract is not installed)")
        budget = ocr.Budget()
        pages, unread, read = [], {}, {}
        for i, frame in enumerate(ImageSequence.Iterator(_open(path))):
            n = i + 1
            if n > len(doc.pages):
                break
            if budget.left() <= 1:
                unread[n] = "the time for OCR ran out"
                pages.append(Page(n, ""))
                continue
            got = ocr.read_image(frame, min(ocr.PAGE_TIMEOUT_S, budget.left()))
            if got.problem or got.confidence < ocr.MIN_CONFIDENCE or len(got.text.split()) < 3:
                unread[n] = got.problem or "too faint or unclear for OCR"
                pages.append(Page(n, ""))
                continue
            pages.append(Page(n, got.text, ocr_confidence=got.confidence))
            read[n] = got.confidence
        notes = ocr.describe(unread, read, len(pages))
        if not read:
            raise ParseError("no text could be read from this picture: " + "; ".join(notes))
        return ParsedDocument(pages=pages, kind=doc.kind, title=doc.title, notes=notes)
