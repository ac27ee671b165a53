"""Ingest a large matter folder (tests/bench/make_matter.py) and watch memory (issue 11).

    .venv/bin/python tests/bench/scale_bench.py MATTER_DIR --library NEW_DIR [--max-seconds S]

Prints one line every ``--every`` finished documents: documents, passages, elapsed,
documents/s, the ETA the user sees, this process's RSS now and its peak (the parse
worker is a separate process with its own cap). Lines are flushed as they come, so a
run stopped early (``--max-seconds`` sets the cancel token, as the Cancel button does)
still leaves its figures; the time Cancel took to stop is printed too. Ends with search
latency over the cuad-dev questions on the resulting library.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402

import rag  # noqa: E402,F401
from rag.cancel import CancelToken  # noqa: E402
from rag.ingest.progress_eta import Eta  # noqa: E402
from rag.library import Library  # noqa: E402
from rag.types import Progress  # noqa: E402

CUAD = REPO.parent / "shared" / "corpus" / "cuad-dev"


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux; MB as rss_mb()


def search_p50(lib: Library, n: int = 60) -> str:
    tests = json.loads((CUAD / "tests.json").read_text(encoding="utf-8"))
    queries = [t["query"] for t in tests][:n]
    lib.search(queries[0])
    lat = []
    for q in queries:
        t0 = time.perf_counter()
        lib.search(q, 8)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return (f"search over {lib.manifest.count_chunks()} passages, {len(lat)} queries: "
            f"p50 {statistics.median(lat):.1f} ms, p95 {lat[int(0.95 * (len(lat) - 1))]:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("matter", type=Path)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--max-seconds", type=float, default=0.0)
    args = ap.parse_args()
    lib = Library(args.library)
    lib.embedder.embed(["warm up"])
    cancel = CancelToken()
    t0 = time.monotonic()
    eta = Eta()
    last = [-1]
    cancelled_at = [0.0]
    print(f"start: RSS {rss_mb():.0f} MB (model loaded)", flush=True)

    def progress(p: Progress) -> None:
        eta.update(p)
        if p.done != last[0] and p.done % args.every == 0 and p.done:
            last[0] = p.done
            secs = time.monotonic() - t0
            print(f"{p.done:>5}/{p.total} docs {p.chunks:>6} passages {secs:7.0f} s "
                  f"{p.done / secs:5.2f} docs/s  ETA '{eta.text()}'  RSS {rss_mb():.0f} MB  peak {peak_mb():.0f} MB",
                  flush=True)

    if args.max_seconds:
        def stop() -> None:
            cancelled_at[0] = time.monotonic()
            cancel.set()
        threading.Timer(args.max_seconds, stop).start()
    report = lib.ingest([args.matter], progress=progress, cancel=cancel)
    end = time.monotonic()
    done = sum(1 for r in report.results if r.outcome.value in ("indexed", "replaced", "unchanged"))
    print(f"end: {done} documents ({len(report.failed)} failed) in {end - t0:.0f} s, "
          f"RSS {rss_mb():.0f} MB, peak {peak_mb():.0f} MB", flush=True)
    if cancelled_at[0]:
        print(f"cancel returned after {end - cancelled_at[0]:.2f} s", flush=True)
    print(search_p50(lib), flush=True)
    lib.close()


if __name__ == "__main__":
    main()
