"""Recall on cuad-dev for both stores: the single-user SQLite library and the same passages
in a team matter in PostgreSQL, searched by the same HybridRetriever (fusion in Python).

Run by hand (not part of the test suite)::

    DOCQA_PASSPHRASE=... nice .venv/bin/python tests/bench/store_recall.py [--reuse] \
        [--phrasings template,title_party,party,title,none,plain] [--every N] [--decoys N]

It takes the cuad-dev library that tests/bench/cuad_eval.py builds (same helper, same
folder: ``/tmp/cuad-lib-<hash>``; ``--reuse`` keeps one already there), starts a PostgreSQL
with pgvector (tests/helpers/postgres.py), copies every ready document's pages, passages,
embeddings and profile into one matter as they are (nothing is parsed or embedded again),
then asks each phrasing's questions of both stores and prints their metrics side by side,
with how many of the top-8 passages the two rankings share. ``--decoys N`` loads N more
matters with the same passages first, so that the matter is a real filter on the HNSW index
(as on a server with many matters). ``--every N`` asks every N-th question only.

Measured (--every 2: 272 of 544 questions; 5,730 passages; 2 cores shared with other work,
so the p50 columns are noisy), recall within 8,000 characters, SQLite -> PostgreSQL:
template 0.874 -> 0.844, title_party 0.843 -> 0.823, party 0.840 -> 0.822, title 0.849 ->
0.822, none 0.209 -> 0.238, plain 0.868 -> 0.838; doc-hit@1 equal within 0.02; the two
rankings share 0.70-0.86 of their top 8. The vectors are the same, so the gap is almost all
keyword ranking: ts_rank_cd weighted by idf is not FTS5's BM25, and PostgreSQL's English
stemmer and stop words are not FTS5's porter.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.bench.cuad_eval import (
    DEFAULT_CORPUS,
    ensure_library,
    index_hash,
    score,
    score_budget,
    search_in_process,
)
from tests.bench.phrasings import PHRASINGS, phrased_tests

APP_ROLE = "docqa_app"
USER = 1


def copy_library(library: Any, store: Any) -> int:
    """Every ready document of ``library`` into ``store`` with its own passages, vectors and
    profile; returns the number of passages copied."""
    from rag.types import Chunk, DocStatus, Page, ParsedDocument

    m = library.manifest
    profiles = m.profiles()
    titles = m.titles()
    docs = [d for d in library.documents() if d.status is DocStatus.READY]
    new_id: dict[int, int] = {}
    copied = 0
    # Messages before their attachments: an attachment names its parent's new id.
    for d in sorted(docs, key=lambda d: (d.parent != 0, d.id)):
        ocr = dict(m.ocr_pages(d.id))
        pages = [Page(n, m.page_text(d.id, n), ocr_confidence=ocr.get(n)) for n in range(1, d.pages + 1)]
        stored = m.neighbours(d.id, 0, 0, 10**9)  # all its passages, in order
        vec_of = {}
        for ids, _docs, vecs in m.embeddings(d.id):
            vec_of.update(zip(ids, vecs))
        chunks = [Chunk(page=c.page, start=c.start, end=c.end, text=c.text, heading=c.heading,
                        ordinal=c.ordinal, location=c.location) for c in stored]
        found = m.find_document(d.path)
        new_id[d.id], _ = store.add_document(
            path=d.path, name=d.name, sha256=found[1] if found else "", size=d.size,
            parsed=ParsedDocument(pages=pages, kind=d.kind, title=titles.get(d.id, ("", ""))[1]),
            chunks=chunks, vectors=[vec_of[c.id] for c in stored], profile=profiles[d.id][1],
            parent_id=new_id.get(d.parent) if d.parent else None)
        copied += len(chunks)
    return copied


def metrics(tests: list[dict[str, Any]], res: list[list[dict[str, Any]]], times: list[float]) -> str:
    sc, sb = score(tests, res, (1, 8, 32)), score_budget(tests, res, (4000, 8000))
    return (f"{sb[4000][0]:7.3f}{sb[8000][0]:7.3f}{sc[8][0]:7.3f}{sc[32][0]:7.3f}{sc[1][1]:7.3f}"
            f"{statistics.median(times) * 1000:6.0f}")


def shared_top(a: list[list[dict[str, Any]]], b: list[list[dict[str, Any]]], k: int = 8) -> float:
    """Mean share of the top-k passages (by file, page and offset) the two rankings share."""
    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return r["file"], r["page"], r["start"]
    shares = [len({key(r) for r in x[:k]} & {key(r) for r in y[:k]}) / max(1, min(k, len(x), len(y)))
              for x, y in zip(a, b)]
    return statistics.mean(shares) if shares else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--library", type=Path, help="default: cuad_eval's /tmp/cuad-lib-<hash>")
    ap.add_argument("--reuse", action="store_true", help="keep an existing library at that path")
    ap.add_argument("--phrasings", default="template,title_party,party,title,none,plain")
    ap.add_argument("--every", type=int, default=1, help="ask every N-th question only")
    ap.add_argument("--decoys", type=int, default=0, help="other matters holding the same passages")
    ap.add_argument("-k", type=int, default=32)
    ap.add_argument("--no-idf", action="store_true", help="PostgreSQL keyword ranking: ts_rank_cd of the OR query")
    ap.add_argument("--norm", type=int, help="ts_rank_cd normalization (default: KeywordRanking's)")
    ap.add_argument("--ef-search", type=int, default=100)
    args = ap.parse_args(argv)
    phrasings = [p for p in args.phrasings.split(",") if p]
    if unknown := set(phrasings) - set(PHRASINGS):
        sys.exit(f"unknown phrasings {sorted(unknown)}; have {', '.join(PHRASINGS)}")

    from rag.ask.retrieval import HybridRetriever
    from rag.library import Library
    from rag.store.postgres.keywords import KeywordRanking
    from rag.store.postgres.schema import add_member, create_matter, grant_app, install_schema
    from rag.store.postgres.store import PostgresStore
    from tests.helpers.postgres import running_postgres

    corpus = args.corpus.resolve()
    tests = json.loads((corpus / "tests.json").read_text(encoding="utf-8"))[:: args.every]
    lib_dir = args.library or Path(tempfile.gettempdir()) / f"cuad-lib-{index_hash()}"
    ensure_library(lib_dir, corpus, args.reuse)

    with Library(lib_dir) as library, running_postgres() as pg:
        db = pg.create_database("store_recall")
        admin = pg.connect(database=db)
        install_schema(admin)
        admin.run(f"CREATE ROLE {APP_ROLE} LOGIN")
        grant_app(admin, APP_ROLE)
        conn = pg.connect(user=APP_ROLE, database=db)
        t0 = time.perf_counter()
        for i in range(args.decoys):
            decoy = create_matter(admin, f"decoy {i}")
            add_member(admin, decoy, 1000)
            copy_library(library, PostgresStore(conn, decoy, 1000))
        matter = create_matter(admin, "cuad-dev")
        add_member(admin, matter, USER)
        ranking = KeywordRanking(idf=not args.no_idf,
                                 **({"normalization": args.norm} if args.norm is not None else {}))
        store = PostgresStore(conn, matter, USER, ef_search=args.ef_search, ranking=ranking)
        n = copy_library(library, store)
        print(f"copied {n} passages of {lib_dir} into PostgreSQL ({args.decoys} decoy matters) in "
              f"{time.perf_counter() - t0:.0f} s; SQLite holds {library.manifest.count_chunks()}", flush=True)
        admin.run("ANALYZE")  # plans from real statistics, as a server that has run a while
        print(f"PostgreSQL keyword ranking: {ranking}; hnsw.ef_search {args.ef_search}")
        pg_retriever = HybridRetriever(store, library.embedder, library.retriever.config)
        print(f"{len(tests)} questions per phrasing; recall within 4,000 / 8,000 characters, at 8 / 32"
              " passages, doc-hit@1, search p50 (ms)")
        cols = f"{'<4000':>7}{'<8000':>7}{'R@8':>7}{'R@32':>7}{'doc@1':>7}{'p50':>6}"
        print(f"{'':12}{'':>5} | {'SQLite + Chroma':^41} | {'PostgreSQL + pgvector':^41} | shared")
        print(f"{'phrasing':12}{'n':>5} | {cols} | {cols} | top-8")
        for ph in phrasings:
            pt = phrased_tests(tests, ph)
            a, ta = search_in_process(library.retriever, pt, args.k)
            b, tb = search_in_process(pg_retriever, pt, args.k)
            print(f"{ph:12}{len(pt):5d} | {metrics(pt, a, ta)} | {metrics(pt, b, tb)} | {shared_top(a, b):5.2f}",
                  flush=True)
        conn.close()
        admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
