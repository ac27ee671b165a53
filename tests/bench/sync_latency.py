"""From a changed file on disk to its new text being searchable, with ``docqa sync``.

    .venv/bin/python tests/bench/sync_latency.py WORK_DIR [-n 30]

Makes an N-document matter folder (tests/bench/make_matter.py), ingests it, then
rewrites one PDF with a sentence no other document has and measures: ``docqa sync`` as
a user runs it (a new process: start-up and model load included), the same sync inside
a running process (what the app's watcher calls, less its 2 s settle delay), and a sync
with nothing changed (the cost of looking).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import rag  # noqa: E402,F401
from rag.library import Library  # noqa: E402
from tests.bench.make_matter import make_matter  # noqa: E402
from tests.helpers.pdfs import make_text_pdf  # noqa: E402


def change(path: Path, word: str) -> None:
    make_text_pdf(path, [[f"Amendment {word}: the notice period becomes ninety days."]])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=Path)
    ap.add_argument("-n", type=int, default=30)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    files = make_matter(args.work / "matter", args.n)
    pdf = next(f for f in files if f.suffix == ".pdf")
    lib_dir = args.work / "lib"
    with Library(lib_dir) as lib:
        lib.ingest([args.work / "matter"])
        t0 = time.perf_counter()
        report = lib.sync()
        print(f"sync, nothing changed, {args.n} files: {time.perf_counter() - t0:.2f} s ({report.summary()})")

    change(pdf, "zanzibar")
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "rag.cli", "--library", str(lib_dir), "sync"], cwd=REPO,
                       capture_output=True, text=True)
    cli = time.perf_counter() - t0
    print(f"docqa sync (new process): {cli:.1f} s -> {r.stdout.strip()}")

    with Library(lib_dir) as lib:
        lib.search("warm up")
        assert any("zanzibar" in p.text for p in lib.search("amendment zanzibar notice period", 3))
        change(pdf, "quokka")
        t0 = time.perf_counter()
        report = lib.sync()
        found = any("quokka" in p.text for p in lib.search("amendment quokka notice period", 3))
        print(f"sync in a running process: {time.perf_counter() - t0:.2f} s to searchable "
              f"(found: {found}; {report.summary()})")


if __name__ == "__main__":
    main()
