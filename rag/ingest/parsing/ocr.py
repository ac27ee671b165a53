"""Reading scanned pages with Tesseract (the ``tesseract`` program, through pytesseract).

Runs inside the parse worker (:mod:`rag.ingest.parsing.isolated`), page by page, with a time
limit per page and a budget per document: a 300-page fax gets what fits in the budget and
the pages left over are named as unread, rather than holding the batch for an hour.
Without Tesseract on the computer nothing fails: the text pages are indexed and the
document says which pages OCR would have read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

PAGE_TIMEOUT_S = 60  # one page at 300 dpi takes a few seconds; a minute means it is stuck
BUDGET_S = 600.0  # per document; the parent's deadline for an OCR parse adds this
MIN_CONFIDENCE = 45.0  # below this mean word confidence a page's text is mostly guesses
DPI = 300  # what Tesseract is tuned for
KINDS = ("pdf", "png", "jpg", "jpeg", "tif", "tiff")  # the files that may need OCR


@dataclass(frozen=True)
class OcrPage:
    text: str
    confidence: float  # mean word confidence, 0-100; -1 when OCR could not run
    problem: str = ""  # why the page could not be read, for the user


def available() -> bool:
    try:
        import pytesseract

        pytesseract.get_tesseract_version()
        return True
    except Exception:  # noqa: BLE001 (not installed, not on PATH, or broken: all mean "no OCR")
        return False


def read_image(image: Any, timeout: float = PAGE_TIMEOUT_S) -> OcrPage:
    """OCR one page image (a PIL image): its text, line by line, and the mean confidence."""
    import pytesseract

    try:
        data = pytesseract.image_to_data(
            image.convert("L"), lang="eng", output_type=pytesseract.Output.DICT, timeout=max(1, int(timeout))
        )
    except RuntimeError as err:  # pytesseract's timeout
        return OcrPage("", -1.0, f"OCR took longer than {int(timeout)} s ({err})"[:120])
    except Exception as err:  # noqa: BLE001 (a Tesseract failure is one page's problem)
        return OcrPage("", -1.0, f"OCR failed: {type(err).__name__}")
    lines: dict[tuple[int, int, int], list[str]] = {}
    confs: list[float] = []
    for i, word in enumerate(data["text"]):
        word = (word or "").strip()
        conf = float(data["conf"][i])
        if not word or conf < 0:
            continue
        confs.append(conf)
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(key, []).append(word)
    text, last_par = [], None
    for key in sorted(lines):
        if last_par is not None and key[:2] != last_par:
            text.append("")  # a blank line between paragraphs, as the chunker expects
        text.append(" ".join(lines[key]))
        last_par = key[:2]
    mean = sum(confs) / len(confs) if confs else 0.0
    return OcrPage("\n".join(text).strip(), round(mean, 1))


class Budget:
    """Seconds left for OCR in one document."""

    def __init__(self, seconds: float | None = None) -> None:
        self.end = time.monotonic() + (BUDGET_S if seconds is None else seconds)

    def left(self) -> float:
        return self.end - time.monotonic()


def describe(unread: dict[int, str], read: dict[int, float], total: int) -> tuple[str, ...]:
    """Notes for the user: which pages were read by OCR, and which could not be read."""
    notes = []
    if read:
        each = [f"{read[n]:.0f}%" for n in sorted(read)]
        shown = ", ".join(each) if len(each) <= 12 else f"{sum(read.values()) / len(read):.0f}% on average"
        notes.append(f"{_pages(sorted(read))} of {total} read by OCR (confidence {shown})")
    if unread:
        reasons = sorted(set(unread.values()))
        notes.append(f"{_pages(sorted(unread))} could not be read: {'; '.join(reasons)}")
    return tuple(notes)


def _pages(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    shown = ", ".join(str(n) for n in numbers[:12]) + (" …" if len(numbers) > 12 else "")
    return f"pages {shown}"
