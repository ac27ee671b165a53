"""Search latency at ~50,000 passages without embedding them (issue 11, scale).

    .venv/bin/python tests/bench/search_scale.py SOURCE_LIBRARY WORK_DIR [--copies 8]

Copies an ingested library (SOURCE_LIBRARY is only read) into WORK_DIR, measures search
latency over the cuad-dev questions, then adds ``--copies`` copies of every document
(its page text, passages and stored vectors, under another path) to the manifest and
the vector index, and measures again. Both figures come from the same process and
machine, so their ratio holds even when the absolute numbers are distorted by load.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import rag  # noqa: E402,F401
from rag.library import Library  # noqa: E402

CUAD = REPO.parent / "shared" / "corpus" / "cuad-dev"


def latency(libs: dict[str, Library], queries: list[str]) -> None:
    """p50/p95 per library, queries interleaved (one machine state for both); the second
    pass finds each query's vector cached, which leaves the search proper."""
    for lib in libs.values():
        for q in queries[:3]:
            lib.search(q, 8)  # warm: model, index, SQLite pages
    for label in ("with the query's embedding", "search proper (query vector cached)"):
        lat: dict[str, list[float]] = {name: [] for name in libs}
        for q in queries:
            for name, lib in libs.items():
                if label.startswith("with"):
                    lib.embedder._queries.clear()  # type: ignore[attr-defined]  # embed it, as a new question is
                t0 = time.perf_counter()
                lib.search(q, 8)
                lat[name].append((time.perf_counter() - t0) * 1000)
        for name, xs in lat.items():
            xs.sort()
            print(f"{name:>6} {libs[name].manifest.count_chunks():>6} passages, {label}: "
                  f"p50 {statistics.median(xs):.1f} ms, p95 {xs[int(0.95 * (len(xs) - 1))]:.1f} ms "
                  f"({len(xs)} queries)", flush=True)
        for lib in libs.values():
            for q in queries:  # the first pass cached only the last 64 queries
                lib.embedder.embed_query(q)


def duplicate(lib: Library, copy: int) -> None:
    """Add one more copy of every ready document, reusing its stored vectors."""
    db = lib.manifest._db
    docs = db.execute("SELECT id FROM documents WHERE status='ready' AND path NOT LIKE '%#copy%'").fetchall()
    for (doc_id,) in docs:
        with lib.manifest.transaction():
            db.execute(
                "INSERT INTO documents(path, name, kind, sha256, size, title, profile, status, error, pages,"
                " added_at, updated_at) SELECT path || ?, 'copy ' || ? || '/' || name, kind, sha256, size,"
                " title, profile, status, error, pages, added_at, updated_at FROM documents WHERE id=?",
                (f"#copy{copy}", copy, doc_id))
            new_id = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
            db.execute("INSERT INTO pages(doc_id, number, text) SELECT ?, number, text FROM pages WHERE doc_id=?",
                       (new_id, doc_id))
            rows = db.execute('SELECT ordinal, page, start, "end", heading, text, embedding FROM chunks'
                              " WHERE doc_id=? ORDER BY id", (doc_id,)).fetchall()
            ids = []
            for r in rows:
                cur = db.execute('INSERT INTO chunks(doc_id, ordinal, page, start, "end", heading, text, embedding)'
                                 " VALUES (?,?,?,?,?,?,?,?)", (new_id, *r))
                ids.append(int(cur.lastrowid or 0))
        vecs = np.stack([np.frombuffer(r[6], dtype=np.float32) for r in rows])
        lib.index.add(ids, vecs, [new_id] * len(ids))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source", type=Path)
    ap.add_argument("work", type=Path)
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--queries", type=int, default=60)
    args = ap.parse_args()
    small, large = args.work / "small", args.work / "large"
    tests = json.loads((CUAD / "tests.json").read_text(encoding="utf-8"))
    queries = [t["query"] for t in tests][: args.queries]
    if not large.exists():  # the copies take minutes: made once, then reused
        shutil.copytree(args.source, large)
        lib = Library(large)
        t0 = time.perf_counter()
        with lib.writing():
            for c in range(1, args.copies + 1):
                duplicate(lib, c)
        print(f"added {args.copies} copies in {time.perf_counter() - t0:.0f} s (no embedding)", flush=True)
        lib.close()
    shutil.rmtree(small, ignore_errors=True)
    shutil.copytree(args.source, small)
    libs = {"small": Library(small)}
    libs["large"] = Library(large, libs["small"].embedder)
    latency(libs, queries)
    for lib in libs.values():
        lib.close()


if __name__ == "__main__":
    main()
