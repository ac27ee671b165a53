"""Sweep RetrievalConfig variants over an ingested CUAD library, in one process.

    .venv/bin/python tests/bench/retrieval_sweep.py --library DIR "doc_vector_weight=2" "merge_adjacent=1" ...

Each argument is one variant (comma-separated NAME=VALUE overrides on the defaults; "" is
the defaults). Prints recall at k and within character budgets, one line per variant.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cuad_eval import BUDGETS, DEFAULT_CORPUS, KS, REPO, score, score_budget  # noqa: E402


def parse(spec: str, base: Any) -> Any:
    overrides: dict[str, Any] = {}
    for item in filter(None, (x.strip() for x in spec.split(","))):
        name, _, value = item.partition("=")
        kind = type(getattr(base, name))
        overrides[name] = (value.lower() in ("1", "true", "yes")) if kind is bool else kind(value)
    return dataclasses.replace(base, **overrides)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("-k", type=int, default=32)
    ap.add_argument("variants", nargs="*", default=[""])
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from rag.ask.retrieval import RetrievalConfig
    from rag.library import Library

    tests = json.loads((args.corpus / "tests.json").read_text(encoding="utf-8"))
    with Library(args.library) as lib:
        lib.search(tests[0]["query"], args.k)
        print(f"{'variant':40}" + "".join(f"{'@' + str(k):>7}" for k in KS) + "".join(f"{b:>7}" for b in BUDGETS)
              + "   ms  dochit@1")
        for spec in args.variants:
            lib.retriever.config = parse(spec, RetrievalConfig())
            t0 = time.perf_counter()
            results = [[p.to_json() for p in lib.search(t["query"], args.k)] for t in tests]
            ms = (time.perf_counter() - t0) * 1000 / len(tests)
            sc, sb = score(tests, results), score_budget(tests, results)
            print(f"{spec or 'defaults':40.40}" + "".join(f"{sc[k][0]:7.3f}" for k in KS)
                  + "".join(f"{sb[b][0]:7.3f}" for b in BUDGETS) + f" {ms:5.0f}  {sc[1][1]:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
