"""Review-grid benchmark on cuad-dev: every contract × CUAD categories, each column worded
the way a reviewer types it (two wordings each, neither CUAD's template), every cell
scored against CUAD's annotations.

    DOCQA_PASSPHRASE=bench .venv/bin/python tests/bench/grid_eval.py --library /tmp/cuad-lib-<hash>

A (contract, category) pair with a CUAD answer is a success when its cell is *found* with
quotes covering at least half of the gold clause's word trigrams (the metric of
tests/bench/cuad_eval.py); a pair without one when its cell says *not stated*. Contracts
are split in two by name (even positions: "tune", odd: "report"): the decision's
thresholds were tuned on "tune" only; both halves are printed. ``--dump FILE`` writes every
cell's evidence for tuning (``--tune`` reads it back and searches, per kind and on the
tune half only, the rule of rag/ask/review/cells.py: which measure, its least value, strong
wording needed or not, least standing above the document's passages). Cells are computed
without the cache, one process, no model; s/cell is the computing time per cell, peak
RSS is sampled every 100 cells. The library is built from --corpus on the first run
(several minutes) and reused after.

    DOCQA_PASSPHRASE=bench .venv/bin/python tests/bench/grid_eval.py --library /tmp/cuad-lib-grid \
        --min-score 0 --dump /tmp/grid.jsonl
    .venv/bin/python tests/bench/grid_eval.py --library /tmp/cuad-lib-grid --tune /tmp/grid.jsonl --slack 0.1
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.bench.cuad_eval import DEFAULT_CORPUS, gold_grams, grams, norm_file

# CUAD category -> two wordings as a reviewer types them (not CUAD's "Highlight the parts...").
COLUMNS: dict[str, tuple[str, str]] = {
    "Governing Law": ("Which law governs this agreement?", "What state's law applies to the contract?"),
    "Expiration Date": ("When does the contract expire?", "How long does the agreement last?"),
    "Renewal Term": ("Does it renew automatically?", "Is there a renewal or extension term?"),
    "Termination For Convenience": ("Can either side terminate without cause?",
                                    "Can a party walk away for convenience?"),
    "Anti-Assignment": ("Can this agreement be assigned?", "Is consent needed to transfer the contract?"),
    "Change Of Control": ("What happens if a party is acquired?", "Is there a change of control provision?"),
    "Cap On Liability": ("Is liability capped?", "What is the maximum liability under the contract?"),
    "Exclusivity": ("Is the relationship exclusive?", "Any exclusivity obligations?"),
    "Non-Compete": ("Is there a non-compete?", "Is a party restricted from competing?"),
    "Audit Rights": ("Can a party audit the other's books?", "Are there audit or inspection rights?"),
    "Insurance": ("What insurance must be maintained?", "Is either party required to carry insurance?"),
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compute(library: Path, corpus: Path, config: Any, limit: int) -> tuple[list[dict[str, Any]], float, list[float]]:
    from rag.ask.review.columns import Column
    from rag.ask.review.engine import run
    from rag.library import Library
    from rag.store.grids import GridStore

    tests = json.loads((corpus / "tests.json").read_text())
    gold: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for t in tests:
        gold[(norm_file(t["file"]), t["category"])] |= gold_grams(t)
    cells: list[dict[str, Any]] = []
    with Library(library) as lib:
        lib.review_config = config
        docs = sorted(lib.documents(), key=lambda d: norm_file(d.name))[: limit or None]
        split = {d.id: ("tune" if i % 2 == 0 else "report") for i, d in enumerate(docs)}
        maker = lib._cell_maker()
        store = GridStore(lib.manifest._db, lib.manifest._lock, writable=False)  # nothing cached
        columns = [Column(f"{cat} #{i + 1}", q) for cat, qs in COLUMNS.items() for i, q in enumerate(qs)]
        maker.cell(docs[0].id, columns[0])  # load the model outside the timing
        rss: list[float] = []
        t0 = time.perf_counter()
        out = run(maker, store, docs, {}, columns,
                  on_progress=lambda p: rss.append(rss_mb()) if p.done % 100 == 0 else None)
        seconds = time.perf_counter() - t0
        names = {d.id: d.name for d in docs}
        for (doc_id, col_name), cell in out.cells.items():
            cat = col_name.rsplit(" #", 1)[0]
            g = gold.get((norm_file(names[doc_id]), cat), set())
            have = set().union(*(grams(q.text) for q in cell.quotes)) if cell.quotes else set()
            # What the quoted passages hold in all: the ceiling of better quotes from them.
            whole = set().union(*(grams(q.passage.text) for q in cell.quotes)) if cell.quotes else set()
            cells.append({"file": names[doc_id], "split": split[doc_id], "category": cat, "column": col_name,
                          "question": cell.column.question, "status": cell.status, "score": cell.score,
                          "cue": cell.cue, "clause": bool(g), "coverage": len(g & have) / len(g) if g else 0.0,
                          "passage_coverage": len(g & whole) / len(g) if g else 0.0, **cell.signals})
    return cells, seconds / max(1, len(cells)), rss


def success(c: dict[str, Any]) -> bool:
    if c["clause"]:
        return c["status"] == "found" and c["coverage"] >= 0.5
    return c["status"] == "not_stated"


def table(cells: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}")
    print(f"{'column':<30} {'found (clause)':>16} {'not stated (none)':>18}")
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cells:
        by[c["category"]].append(c)
    for cat in [*COLUMNS, None]:
        rows = cells if cat is None else by[cat]
        yes = [c for c in rows if c["clause"]]
        no = [c for c in rows if not c["clause"]]
        f = sum(map(success, yes)) / len(yes) if yes else float("nan")
        n = sum(map(success, no)) / len(no) if no else float("nan")
        name = "OVERALL" if cat is None else cat
        print(f"{name:<30} {f:>8.3f} ({len(yes):>4}) {n:>10.3f} ({len(no):>4})")


# (what is measured: "score", the question's cosine, "example", the kind's example
# clause's, or "quote", the best cue quote's picker score; its least value; strong wording
# needed; its least standing (z) in the document, which a quote's score has none of)
Rule = tuple[str, float, bool, float]


def redecide(cells: list[dict[str, Any]], rules: dict[str, Rule], default: Rule) -> list[dict[str, Any]]:
    """The cells as these rules would decide them (quotes, and so coverage, stay the same):
    rag/ask/review/cells.py's decision on the dumped evidence."""
    from rag.ask.review.columns import kind_of

    out = []
    for c in cells:
        k = kind_of(c["question"])
        what, t, need, zmin = rules.get(k.name, default) if k else default
        if what not in c:
            what = "score"
        short = c.get("passages", 99) <= 3
        z = c.get("z" if what == "score" else what + "_z", 99.0 if what == "quote" else 0.0)  # a quote has no spread
        found = (c["cue"] and (short or c[what] >= t) and (c.get("strong_held", 1.0) > 0 or not need)
                 and (short or z >= zmin))
        out.append({**c, "status": "found" if found else "not_stated"})
    return out


def tune(cells: list[dict[str, Any]], slack: float) -> dict[str, Rule]:
    """Per kind, on the tune half: the rule (least score, strong wording needed or not,
    least standing above the document's passages) that keeps found cells within
    ``slack`` of the most found, maximising found + not stated (found first: missing a
    clause costs a reviewer more than one more quote to dismiss). Ties: the loosest."""
    from rag.ask.review.columns import kind_of

    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cells:
        if c["split"] == "tune":
            k = kind_of(c["question"])
            by[k.name if k else ""].append(c)
    best: dict[str, Rule] = {}
    grid = [(what, t / 100, need, z) for what in ("score", "example", "quote") for t in range(0, 100, 5)
            for need in (False, True) for z in (-99.0, 0.0, 0.5, 1.0, 1.5, 2.0)]
    for kind, rows in by.items():
        got = {r: _rates(redecide(rows, {kind: r}, r)) for r in grid}
        top = max(f for f, _n in got.values())
        ok = [r for r in grid if got[r][0] >= top - slack]
        best[kind] = max(ok, key=lambda r: (sum(got[r]), r[0] == "score", -r[1], -r[2], -r[3]))
    return best


def _rates(cells: list[dict[str, Any]]) -> tuple[float, float]:
    yes = [c for c in cells if c["clause"]]
    no = [c for c in cells if not c["clause"]]
    return (sum(map(success, yes)) / max(1, len(yes)), sum(map(success, no)) / max(1, len(no)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, required=True,
                    help="a cuad-dev library, built here from --corpus when the folder has none, then reused")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=0, help="only the first N contracts")
    ap.add_argument("--dump", type=Path, help="write every cell's features here (JSONL)")
    ap.add_argument("--tune", type=Path, help="read a --dump made with --min-score 0 and search thresholds")
    ap.add_argument("--min-score", type=float, default=None, help="one threshold for every kind, no other rule")
    ap.add_argument("--slack", type=float, default=0.02, help="--tune: found cells it may give up per kind")
    args = ap.parse_args()
    if args.tune:
        cells = [json.loads(x) for x in args.tune.read_text().splitlines() if x.strip()]
        best = tune(cells, args.slack)
        print("rules (least score, strong wording needed, least z), tuned on the tune half:", json.dumps(best))
        d = redecide(cells, best, ("score", 0.45, False, -99.0))
        table([c for c in d if c["split"] == "tune"], "tune half (thresholds fitted here)")
        table([c for c in d if c["split"] == "report"], "report half (held out)")
        return
    from rag.ask.review.cells import DecisionConfig

    config = DecisionConfig() if args.min_score is None else DecisionConfig(
        min_score=args.min_score, min_score_unknown=args.min_score, rules={})
    if not (args.library / "manifest.sqlite3").exists():
        from tests.bench.cuad_eval import ensure_library

        ensure_library(args.library, args.corpus, reuse=True)  # first run: several minutes
    cells, per_cell, rss = compute(args.library, args.corpus, config, args.limit)
    if args.dump:
        args.dump.write_text("".join(json.dumps(c) + "\n" for c in cells))
    table([c for c in cells if c["split"] == "tune"], "tune half (even contracts by name)")
    table([c for c in cells if c["split"] == "report"], "report half (odd contracts by name, held out)")
    table(cells, "all contracts")
    print(f"\n{len(cells)} cells, {per_cell:.3f} s/cell; peak RSS every 100 cells (MB): "
          + " ".join(f"{x:.0f}" for x in rss[:: max(1, len(rss) // 8)]))


if __name__ == "__main__":
    main()
