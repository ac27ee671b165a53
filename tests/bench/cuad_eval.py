"""CUAD retrieval benchmark: span recall, doc-hit, latency and a miss analysis.

Run by hand (it is not part of the test suite)::

    .venv/bin/python tests/bench/cuad_eval.py [--library DIR] [--reuse] [--corpus DIR]

It ingests ``<corpus>/pdf`` with ``docqa ingest`` into ``/tmp/cuad-lib-<hash>`` (the hash
covers everything that decides what is indexed: parsing, chunking, the embedder), runs the
questions of ``<corpus>/tests.json`` through ``docqa search --batch -k 32`` in a subprocess,
scores them the LegalBench-RAG way (the logic of shared/eval/cuad_metric.py, copied here so
the benchmark does not import from outside the repository), then times every query again
in-process and classifies the misses. ``--reuse`` keeps an existing library with the same
hash, so that a retrieval-only change is measured in a minute or two. ``--in-process`` skips
the subprocess (the in-process results are scored instead) and ``--set name=value``
overrides a field of :class:`rag.ask.retrieval.RetrievalConfig`, for tuning runs.

``--phrasing`` asks the same questions the ways people type them (see
``tests/bench/phrasings.py``): ``template`` (cuad-dev as is, the default), ``title_party``,
``party``, ``title``, ``none`` (no document named: doc-hit is then informative only),
``plain`` (plain words instead of the clause's legal name, printed beside ``template`` and
``title_party``), or ``all``, which prints one line of metrics per phrasing. Phrasings other than the template
are searched in-process. Tune on all of them together, never on one.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.bench.phrasings import PHRASINGS, phrased_tests

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO / ".." / "shared" / "corpus" / "cuad-dev"
KS = (1, 4, 8, 16, 32)
BUDGETS = (2000, 4000, 8000, 16000)
MISS_BUDGET = 8000

# -- the metric (copied from shared/eval/cuad_metric.py) ----------------------------------
_W = re.compile(r"[a-z0-9]+")


def grams(text: str, n: int = 3) -> set[tuple[str, ...]]:
    w = _W.findall(text.lower())
    if len(w) < n:
        return {tuple(w)} if w else set()
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def norm_file(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = base.rsplit(".", 1)[0] if "." in base else base
    return re.sub(r"[^a-z0-9]", "", base.lower())


def gold_grams(test: dict[str, Any]) -> set[tuple[str, ...]]:
    return set().union(*(grams(x) for x in test["gold"]))


def score(tests: list[dict[str, Any]], results: list[list[dict[str, Any]]], ks: tuple[int, ...] = KS
          ) -> dict[int, tuple[float, float]]:
    out = {}
    for k in ks:
        cov_sum = hit_sum = 0.0
        for t, res in zip(tests, results):
            want = norm_file(t["file"])
            top = [r for r in res[:k] if norm_file(r["file"]) == want]
            hit_sum += 1.0 if top else 0.0
            g = gold_grams(t)
            have = set().union(*(grams(r["text"]) for r in top)) if top else set()
            cov_sum += len(g & have) / len(g) if g else 0.0
        out[k] = (cov_sum / len(tests), hit_sum / len(tests))
    return out


def budget_recall(t: dict[str, Any], res: list[dict[str, Any]], b: int) -> tuple[float, bool]:
    want = norm_file(t["file"])
    left, top = b, []
    for r in res:
        if left <= 0:
            break
        text = r["text"][:left]
        left -= len(r["text"])
        if norm_file(r["file"]) == want:
            top.append(text)
    g = gold_grams(t)
    have = set().union(*(grams(x) for x in top)) if top else set()
    return (len(g & have) / len(g) if g else 0.0), bool(top)


def score_budget(tests: list[dict[str, Any]], results: list[list[dict[str, Any]]],
                 budgets: tuple[int, ...] = BUDGETS) -> dict[int, tuple[float, float]]:
    out = {}
    for b in budgets:
        cov_sum = hit_sum = 0.0
        for t, res in zip(tests, results):
            cov, hit = budget_recall(t, res, b)
            cov_sum += cov
            hit_sum += 1.0 if hit else 0.0
        out[b] = (cov_sum / len(tests), hit_sum / len(tests))
    return out


# -- the library ---------------------------------------------------------------------------
def index_hash(chunk: str = "") -> str:
    """Hash of the chunker's sources (what a retrieval change leaves alone) and of a
    ``--chunk`` setting. Parsing and the embedding model change rarely: after such a
    change, run without --reuse."""
    h = hashlib.sha1(chunk.encode())
    # The chunker and what decides its passages' text and headings (the clinical sections).
    files = [REPO / "rag" / "ingest" / "chunking.py", REPO / "rag" / "types.py",
             *sorted((REPO / "rag" / "ingest").glob("sections*.py"))]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


def docqa(*args: str) -> list[str]:
    exe = Path(sys.executable).parent / "docqa"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "rag.cli"]
    return [*cmd, *args]


def ensure_library(lib: Path, corpus: Path, reuse: bool, chunk: str = "") -> None:
    if reuse and (lib / "manifest.sqlite3").exists():
        print(f"reusing {lib}")
        return
    if lib.exists():
        shutil.rmtree(lib)
    t0 = time.perf_counter()
    print(f"ingesting {corpus / 'pdf'} into {lib} {chunk}...", flush=True)
    if chunk:
        ingest_with(lib, corpus, chunk)
    else:
        subprocess.run(docqa("--library", str(lib), "ingest", str(corpus / "pdf")), check=True,
                       stdout=subprocess.DEVNULL, cwd=REPO)
    print(f"ingested in {time.perf_counter() - t0:.0f} s")


def ingest_with(lib: Path, corpus: Path, chunk: str) -> None:
    """Ingest in-process with ``SIZE/OVERLAP[/MAX_TOKENS]`` passages (the passage-size
    curve): searching needs nothing else, so the CLI searches this library as any other."""
    from rag.ingest.chunking import ChunkerConfig, StructuredChunker
    from rag.library import Library
    from rag.models.embedder import SentenceTransformerEmbedder

    parts = [int(x) for x in chunk.split("/")]
    cfg = ChunkerConfig(size=parts[0], overlap=parts[1])
    emb = SentenceTransformerEmbedder(max_tokens=parts[2] if len(parts) > 2 else None)
    with Library(lib, emb, chunker=StructuredChunker(cfg)) as library:
        library.ingest([corpus / "pdf"])
        print(f"{library.manifest.count_chunks()} passages; embedder on {emb.hardware}")


def search_subprocess(lib: Path, tests: list[dict[str, Any]], k: int) -> tuple[list[list[dict[str, Any]]], float]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for t in tests:
            fh.write(json.dumps({"query": t["query"]}) + "\n")
        qfile = fh.name
    t0 = time.perf_counter()
    out = subprocess.run(docqa("--library", str(lib), "search", "--batch", qfile, "-k", str(k), "--json"),
                         check=True, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    Path(qfile).unlink()
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.strip()]
    if len(lines) != len(tests):
        sys.exit(f"{len(lines)} result lines for {len(tests)} tests:\n{out.stderr[-2000:]}")
    return [x["results"] for x in lines], wall


def search_in_process(library: Any, tests: list[dict[str, Any]], k: int
                      ) -> tuple[list[list[dict[str, Any]]], list[float]]:
    library.search(tests[0]["query"], k)  # warm up the model and the caches
    results, times = [], []
    for t in tests:
        t0 = time.perf_counter()
        ps = library.search(t["query"], k)
        times.append(time.perf_counter() - t0)
        results.append([p.to_json() for p in ps])
    return results, times


# -- miss analysis -------------------------------------------------------------------------
def classify_misses(library: Any, tests: list[dict[str, Any]], results: list[list[dict[str, Any]]]
                    ) -> list[tuple[str, dict[str, Any], float]]:
    docs = {norm_file(d.name): d for d in library.documents()}
    page_cache: dict[int, set[tuple[str, ...]]] = {}
    chunk_cache: dict[int, list[set[tuple[str, ...]]]] = {}
    out = []
    for t, res in zip(tests, results):
        cov, hit = budget_recall(t, res, MISS_BUDGET)
        if cov >= 0.5:
            continue
        g = gold_grams(t)
        d = docs.get(norm_file(t["file"]))
        if d is None:
            out.append(("text lost in extraction", t, cov))
            continue
        if d.id not in page_cache:
            text = "\n".join(library.page_text(d.id, n) for n in range(1, d.pages + 1))
            page_cache[d.id] = grams(text)
            chunks = library.manifest.neighbours(d.id, 0, 0, 10**6)
            chunk_cache[d.id] = [grams(c.text) for c in chunks]
        if not g or len(g & page_cache[d.id]) / len(g) < 0.5:
            kind = "text lost in extraction"
        elif not hit:
            kind = "wrong document"
        else:
            # Which chunks of the right file hold the gold, among the full ranking's passages?
            ranked = [grams(r["text"]) for r in res if norm_file(r["file"]) == norm_file(t["file"])]
            holders = [c for c in ranked if len(c & g) >= max(2, 0.1 * len(g))]
            union = set().union(*holders) if holders else set()
            best = max((len(c & g) for c in holders), default=0)
            if len(holders) >= 2 and len(union & g) >= 0.5 * len(g) and best < 0.5 * len(g):
                kind = "clause split across chunks"
            else:
                kind = "right document, wrong clause"
        out.append((kind, t, cov))
    return out


def spread(results: list[list[dict[str, Any]]], k: int = 8) -> tuple[float, float]:
    """Mean number of documents in the top k, and the share of rankings from one document."""
    counts = [len({r["file"] for r in res[:k]}) for res in results if res]
    if not counts:
        return 0.0, 0.0
    return statistics.mean(counts), sum(c == 1 for c in counts) / len(counts)


def print_phrasing_table(library: Any, tests: list[dict[str, Any]], phrasings: tuple[str, ...], k: int
                         ) -> None:
    """One line of metrics per phrasing: recall within 4,000 and 8,000 characters, at 8 and
    32 passages, doc-hit@1, search p50, and how many documents the top 8 come from."""
    print(f"{'phrasing':12}{'n':>5}{'<4000':>8}{'<8000':>8}{'R@8':>8}{'R@32':>8}{'doc@1':>8}"
          f"{'p50ms':>7}{'docs@8':>8}{'one@8':>7}")
    for ph in phrasings:
        pt = phrased_tests(tests, ph)
        res, times = search_in_process(library, pt, max(k, 32))
        sc, sb = score(pt, res, (1, 8, 32)), score_budget(pt, res, (4000, 8000))
        p50 = statistics.median(times) * 1000
        docs8, one8 = spread(res)
        note = "  (doc-hit informative only)" if ph == "none" else ""
        print(f"{ph:12}{len(pt):5d}{sb[4000][0]:8.3f}{sb[8000][0]:8.3f}{sc[8][0]:8.3f}{sc[32][0]:8.3f}"
              f"{sc[1][1]:8.3f}{p50:7.0f}{docs8:8.2f}{one8:7.2f}{note}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--library", type=Path, help="default: /tmp/cuad-lib-<hash of the indexing code>")
    ap.add_argument("--reuse", action="store_true", help="keep an existing library at that path")
    ap.add_argument("--chunk", default="", metavar="SIZE/OVERLAP[/MAX_TOKENS]",
                    help="ingest with these passage settings (and embedder token limit) instead")
    ap.add_argument("-k", type=int, default=32)
    ap.add_argument("--in-process", action="store_true", help="score the in-process pass only")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a RetrievalConfig field (in-process pass)")
    ap.add_argument("--misses", type=int, default=0, help="list this many misses in detail")
    ap.add_argument("--json-out", type=Path, help="write the ranked results here (JSONL)")
    ap.add_argument("--phrasing", choices=[*PHRASINGS, "all"], default="template",
                    help="how the questions name their document (default: the template)")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from rag.ask.retrieval import RetrievalConfig
    from rag.library import Library

    corpus = args.corpus.resolve()
    tests = json.loads((corpus / "tests.json").read_text(encoding="utf-8"))
    lib_dir = args.library or Path(tempfile.gettempdir()) / f"cuad-lib-{index_hash(args.chunk)}"
    ensure_library(lib_dir, corpus, args.reuse, args.chunk)

    overrides: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(RetrievalConfig)}
    for item in args.set:
        name, _, value = item.partition("=")
        if name not in fields:
            sys.exit(f"no RetrievalConfig field {name!r}; have {', '.join(fields)}")
        kind = type(getattr(RetrievalConfig(), name))
        overrides[name] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
    config = RetrievalConfig(**overrides)

    if args.phrasing != "template":
        with Library(lib_dir, retrieval=config) as library:
            print(f"config: {config}")
            phrasings = PHRASINGS if args.phrasing == "all" else (args.phrasing,)
            if args.phrasing == "plain":  # beside the same questions in the words it avoids
                phrasings = ("template", "title_party", "plain", "plain_fresh")
            print_phrasing_table(library, tests, phrasings, args.k)
        return 0

    results: list[list[dict[str, Any]]] = []
    if not args.in_process:
        results, wall = search_subprocess(lib_dir, tests, args.k)
        print(f"docqa search --batch: {len(tests)} queries in {wall:.1f} s (with start-up)")
    with Library(lib_dir, retrieval=config) as library:
        own, times = search_in_process(library, tests, args.k)
        if args.in_process:
            results = own
        print(f"config: {config}")
        sc, sb = score(tests, results), score_budget(tests, results)
        print(f"{'':12}" + "".join(f"{'@' + str(k):>8}" for k in KS) + "".join(f"{b:>8}" for b in BUDGETS))
        print(f"{'recall':12}" + "".join(f"{sc[k][0]:8.3f}" for k in KS) + "".join(f"{sb[b][0]:8.3f}" for b in BUDGETS))
        print(f"{'doc-hit':12}" + "".join(f"{sc[k][1]:8.3f}" for k in KS) + "".join(f"{sb[b][1]:8.3f}" for b in BUDGETS))
        ms = sorted(x * 1000 for x in times)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(f"search latency (in-process, k={args.k}): p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms")
        lengths = [len(r["text"]) for res in results for r in res]
        print(f"mean passage length: {statistics.mean(lengths):.0f} chars")

        misses = classify_misses(library, tests, results)
        counts = Counter(kind for kind, _t, _c in misses)
        print(f"misses (recall within {MISS_BUDGET} chars < 0.5): {len(misses)} of {len(tests)}")
        for kind, n in counts.most_common():
            print(f"  {kind}: {n}")
        cats: Counter[str] = Counter(t["category"] for _k, t, _c in misses)
        print("  by category: " + ", ".join(f"{c} {n}" for c, n in cats.most_common(12)))
        for kind, t, cov in misses[: args.misses]:
            print(f"- [{kind}] {cov:.2f} {t['file']} :: {t['query'][-100:]}")
    if args.json_out:
        with args.json_out.open("w", encoding="utf-8") as fh:
            for t, res in zip(tests, results):
                fh.write(json.dumps({"query": t["query"], "results": res}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
