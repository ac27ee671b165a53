"""pypdf vs pdfium (pypdfium2) text extraction on the CUAD contracts.

    .venv/bin/python tests/bench/bench_pdf_extract.py [--files 60] [--timeout 60]

Each file runs in a child process with a time limit, so a pathological file cannot stall
the benchmark; prints totals, the slowest files, and characters extracted by each.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pypdf(path: str) -> int:
    from pypdf import PdfReader

    return sum(len(p.extract_text() or "") for p in PdfReader(path).pages)


def _pdfium(path: str) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    n = 0
    for i in range(len(pdf)):
        tp = pdf[i].get_textpage()
        n += len(tp.get_text_bounded())
    return n


def _run(fn, path: str, q) -> None:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    n = fn(path)
    q.put((n, time.perf_counter() - t0))


def timed(fn, path: Path, limit: float) -> tuple[int, float, bool]:  # type: ignore[no-untyped-def]
    q: mp.Queue = mp.Queue()
    p = mp.Process(target=_run, args=(fn, str(path), q))
    t0 = time.perf_counter()
    p.start()
    p.join(limit)
    if p.is_alive():
        p.kill()
        return 0, time.perf_counter() - t0, True
    n, secs = q.get()
    return n, secs, False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "cuad-dev")
    ap.add_argument("--files", type=int, default=60)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    files = sorted((args.corpus / "pdf").iterdir())[: args.files]
    rows = []
    for f in files:
        a = timed(_pypdf, f, args.timeout)
        b = timed(_pdfium, f, args.timeout)
        rows.append((f.name, a, b))
    for label, idx in (("pypdf", 1), ("pdfium", 2)):
        total = sum(r[idx][1] for r in rows)
        chars = sum(r[idx][0] for r in rows)
        hung = sum(1 for r in rows if r[idx][2])
        print(f"{label:7s} {len(rows)} files: {total:7.1f} s, {chars:,} chars, timed out: {hung}")
    print("slowest for pypdf:")
    for name, a, b in sorted(rows, key=lambda r: -r[1][1])[:5]:
        print(f"  {a[1]:6.1f} s pypdf  {b[1]:5.2f} s pdfium  {name}")


if __name__ == "__main__":
    main()
