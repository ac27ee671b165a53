"""Parsing speed per format, and OCR pages per second, on files made here.

    PYTHONPATH=. .venv/bin/python tests/bench/bench_formats.py [--files 8] [--scans 4]

Each format gets ``--files`` documents of a few pages (a DOCX letter of ~4 sections, an
XLSX of 2 sheets x 300 rows, a CSV of 300 rows, a 10-page text PDF from the CUAD texts when
present, an e-mail with a PDF and a DOCX attached) parsed in this process through the
registry, after one warm-up file (unstructured's import is a one-off second or more).
"Pages" are what the parser returns: PDF pages, sheets, one per DOCX/e-mail body; rows
per second are printed for the spreadsheets, where pages say little. OCR is timed on
image-only PDF pages drawn with Pillow (Tesseract 300 dpi, one page per call).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rag.ingest.parsing import ocr
from rag.ingest.parsing.registry import ParserRegistry
from tests.helpers.matter import make_docx, make_eml, make_scan_pdf, make_xlsx
from tests.helpers.pdfs import make_text_pdf

LOREM = ("The supplier shall deliver the goods within thirty days of the order and the buyer "
         "shall pay each invoice within forty-five days of receipt. ")


def _pdf(path: Path) -> Path:
    return make_text_pdf(path, [[f"{p + 1}. Section {p + 1}", *([LOREM[:90]] * 40)] for p in range(10)])


def _csv(path: Path) -> Path:
    rows = ["Client,Matter,Amount,Date"] + [f"Client {i},matter {i % 17},{1000 + i},2026-01-{i % 28 + 1:02d}"
                                            for i in range(300)]
    path.write_text("\n".join(rows))
    return path


def _xlsx(path: Path) -> Path:
    return make_xlsx(path, rows=300)


def _eml(path: Path) -> Path:
    parts = path.with_suffix(".parts")
    parts.mkdir(exist_ok=True)
    return make_eml(path, [_pdf(parts / "contract.pdf"), make_docx(parts / "memo.docx")])


MAKERS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "pdf": ("pdf", _pdf), "docx": ("docx", make_docx), "xlsx": ("xlsx", _xlsx), "csv": ("csv", _csv),
    "eml (body only)": ("eml", _eml),
}


def bench(files: int, scans: int) -> None:
    reg = ParserRegistry()
    tmp = Path(tempfile.mkdtemp(prefix="docqa-bench-formats-"))
    try:
        print(f"{'format':<16}{'files':>6}{'pages':>7}{'rows':>7}{'seconds':>9}{'pages/s':>9}{'rows/s':>9}")
        for label, (ext, make) in MAKERS.items():
            paths = [make(tmp / f"{ext}-{i}.{ext}") for i in range(files + 1)]
            reg.parse(paths[0])  # warm-up: imports, spaCy's blank pipeline
            t0 = time.perf_counter()
            pages = rows = 0
            for p in paths[1:]:
                doc = reg.parse(p)
                pages += len(doc.pages)
                rows += sum(len(pg.anchors) for pg in doc.pages) if ext in ("xlsx", "csv") else 0
            dt = time.perf_counter() - t0
            rate_rows = f"{rows / dt:9.0f}" if rows else f"{'-':>9}"
            print(f"{label:<16}{files:>6}{pages:>7}{rows or '-':>7}{dt:9.2f}{pages / dt:9.1f}{rate_rows}")
        if not ocr.available():
            print("OCR: Tesseract is not installed; skipped")
            return
        scan_paths = [make_scan_pdf(tmp / f"scan-{i}.pdf") for i in range(scans)]
        t0 = time.perf_counter()
        confidences = []
        for p in scan_paths:
            doc = reg.parse(p)
            confidences += [pg.ocr_confidence or 0.0 for pg in doc.pages]
        dt = time.perf_counter() - t0
        print(f"{'OCR (scan pdf)':<16}{scans:>6}{len(confidences):>7}{'-':>7}{dt:9.2f}"
              f"{len(confidences) / dt:9.2f}{'-':>9}   mean confidence {sum(confidences) / len(confidences):.0f}%")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--scans", type=int, default=4)
    args = ap.parse_args()
    bench(args.files, args.scans)


if __name__ == "__main__":
    main()
