"""Answer benchmark: verbatim quotes, the decline gate, and checked generated sentences.

Run by hand (not part of the test suite), on a library holding cuad-dev (as built by
``cuad_eval.py``, or ``docqa --library DIR ingest ../shared/corpus/cuad-dev/pdf``)::

    .venv/bin/python tests/bench/answer_bench.py --library DIR [--phrasing party] [--generate 20] [--model FILE.gguf]

It prints, over a fixed sample of cuad-dev questions and a set of questions the contracts
cannot answer:
- the share of questions whose quotes cover at least half of the gold clause's word
  trigrams (and the mean coverage), and the latency of quoting after retrieval;
- the decline gate's error rates: answerable questions declined (over all 544) and
  unanswerable ones let through, with a sweep of its threshold;
- with ``--generate N``: the bundled model (or ``--model``) answers N questions of each
  set end to end, and the share of generated sentences supported, unsupported and
  contradicted, and of unanswerable questions declined, is printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cuad_eval import DEFAULT_CORPUS, gold_grams, grams, norm_file  # noqa: E402
from phrasings import phrased_tests  # noqa: E402

SAMPLE = 80
SEED = 7

# Questions a library of commercial contracts cannot answer: clinical, general knowledge,
# and legal questions about things no contract here states.
UNANSWERABLE = [
    "What dose of metformin was the patient prescribed at discharge?",
    "What was the patient's HbA1c result in March?",
    "What is the boiling point of ethanol?",
    "Which antibiotics is the patient allergic to?",
    "What was the patient's blood pressure at admission?",
    "When is the patient's next follow-up appointment with cardiology?",
    "What is the recommended dosage of amoxicillin for a child of 20 kg?",
    "Did the MRI show any signs of a herniated disc?",
    "What is the half-life of warfarin?",
    "Who was the attending physician on the night of the surgery?",
    "What is the capital of Australia?",
    "How many moons does Jupiter have?",
    "Who won the football world cup in 1998?",
    "What is the speed of light in a vacuum?",
    "How do I bake sourdough bread?",
    "What year did the Berlin Wall fall?",
    "What is the population of Tokyo?",
    "How tall is Mount Everest?",
    "What was the verdict in the defendant's criminal trial?",
    "How long is the statute of limitations for medical malpractice in Ohio?",
    "What custody arrangement did the family court order for the children?",
    "What was the plaintiff's settlement amount in the slip-and-fall case?",
    "When was the client's last will and testament signed?",
    "What is the tenant's monthly rent under the apartment lease?",
    "How much alimony was awarded in the divorce?",
    "What immigration visa did the employee apply for?",
    "What did the witness say in her deposition about the car accident?",
    "What is the patient's insurance member ID?",
    "Which pharmacy filled the oxycodone prescription?",
    "What was the result of the patient's COVID-19 test?",
]


# The prompt before quotes were added (for --prompt before).
BEFORE_PROMPT = (
    "You answer questions about the user's documents. Use only the numbered sources "
    "provided. After each statement, cite the source numbers in square brackets, "
    "like [1] or [2][3]. If the sources do not contain the answer, say that the "
    "documents do not say. Be concise and exact; quote key wording where it matters."
)


def sample(tests: list[dict[str, Any]], n: int = SAMPLE) -> list[dict[str, Any]]:
    """A fixed sample, spread over categories."""
    rng = random.Random(SEED)
    by_cat: dict[str, list[dict[str, Any]]] = {}
    for t in tests:
        by_cat.setdefault(t["category"], []).append(t)
    picked: list[dict[str, Any]] = []
    pools = [rng.sample(v, len(v)) for _k, v in sorted(by_cat.items())]
    while len(picked) < n and any(pools):
        for pool in pools:
            if pool and len(picked) < n:
                picked.append(pool.pop())
    return picked


def quote_coverage(t: dict[str, Any], quotes: list[Any]) -> float:
    g = gold_grams(t)
    want = norm_file(t["file"])
    have = set().union(*(grams(q.text) for q in quotes if norm_file(q.passage.file) == want)) if quotes else set()
    return len(g & have) / len(g) if g else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("-k", type=int, default=8)
    ap.add_argument("--generate", type=int, default=0, help="answer this many questions of each set with the model")
    ap.add_argument("--model", type=Path, help="GGUF (default: the bundled Gemma 3 270M)")
    ap.add_argument("--show", type=int, default=0, help="print this many generated answers")
    ap.add_argument("--prompt", default="default", choices=["default", "all", "unquoted", "before"],
                    help="prompt variant: the default; all passages besides the quotes; only passages "
                         "no quote comes from; the prompt before quotes")
    ap.add_argument("--phrasing", default="template",
                    choices=["template", "title_party", "party", "title", "none"],
                    help="how the sampled questions name their document (tests/bench/phrasings.py)")
    ap.add_argument("--prompt-seconds", type=float, default=None,
                    help="rag.ask.answer.PROMPT_SECONDS for this run (0: no limit but the context)")
    ap.add_argument("--quote-share", type=float, default=None, help="rag.ask.answer.QUOTE_SHARE for this run")
    ap.add_argument("--prompt-tokens", type=int, default=None,
                    help="rag.ask.answer.PROMPT_TOKENS for this run (0: no limit)")
    ap.add_argument("--skip-gate", action="store_true", help="skip the gate sweep (all 544 questions)")
    args = ap.parse_args(argv)

    from rag.library import Library

    tests = json.loads((args.corpus / "tests.json").read_text(encoding="utf-8"))
    picked = sample(phrased_tests(tests, args.phrasing) if args.phrasing != "template" else tests)
    with Library(args.library) as lib:
        lib.search(picked[0]["query"], args.k)  # warm up
        covs, times, searches = [], [], []
        for t in picked:
            t0 = time.perf_counter()
            passages = lib.search(t["query"], args.k)
            searches.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            quotes, _rel = lib.quote(t["query"], passages)
            times.append((time.perf_counter() - t0) * 1000)
            covs.append(quote_coverage(t, quotes))
        ms = sorted(times)
        print(f"search: p50 {statistics.median(searches):.0f} ms over {len(picked)} questions "
              f"(embedder on {getattr(lib.embedder, 'hardware', '?')})")
        print(f"quotes: {len(picked)} cuad-dev questions, k={args.k}")
        print(f"  share with quotes covering >= half the gold trigrams: {sum(c >= 0.5 for c in covs) / len(covs):.3f}")
        print(f"  mean gold-trigram coverage of the quotes: {statistics.mean(covs):.3f}")
        print(f"  quoting latency after retrieval: p50 {statistics.median(ms):.0f} ms, "
              f"p95 {ms[int(0.95 * (len(ms) - 1))]:.0f} ms")

        if args.skip_gate:
            if args.generate:
                generate(lib, picked[: args.generate], UNANSWERABLE[: args.generate], args)
            return 0

        # The gate, on every cuad-dev question and every unanswerable one.
        def rel(q: str) -> tuple[float, bool]:
            return lib.quote(q, lib.search(q, args.k))[1].score, bool(lib.unknown_words(q))

        pos = [rel(t["query"]) for t in tests]
        neg = [rel(q) for q in UNANSWERABLE]
        g = lib.gate

        def rates(lo: float, hi: float) -> tuple[float, float]:
            def admits(r: tuple[float, bool]) -> bool:
                return r[0] >= (hi if r[1] else lo)
            return (sum(not admits(r) for r in pos) / len(pos), sum(admits(r) for r in neg) / len(neg))

        fr, fa = rates(g.min_score, g.min_score_unknown)
        print(f"gate (score >= {g.min_score}, or >= {g.min_score_unknown} with unknown words): "
              f"answerable declined {fr:.3f} (of {len(pos)}), unanswerable let through {fa:.3f} (of {len(neg)})")
        print(f"  questions with words the library never uses: answerable {sum(r[1] for r in pos)}, "
              f"unanswerable {sum(r[1] for r in neg)}")
        for hi in (0.7, 0.8, 0.9, 1.0):
            print(f"  unknown words need {hi}: " + "  ".join(
                "{:.2f}: {:.3f}/{:.3f}".format(lo, *rates(lo, hi)) for lo in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65)))
        print("  (min_score: declined answerable / let-through unanswerable)")

        if args.generate:
            generate(lib, picked[: args.generate], UNANSWERABLE[: args.generate], args)
    return 0


def generate(lib: Any, answerable: list[dict[str, Any]], unanswerable: list[str], args: argparse.Namespace) -> None:
    import rag.ask.answer
    from rag.ask.generation import LlamaGenerator
    from rag.models.defaults import default_llm_path
    from rag.paths import models_dir

    if args.prompt_tokens is not None and hasattr(rag.ask.answer, "PROMPT_TOKENS"):
        rag.ask.answer.PROMPT_TOKENS = args.prompt_tokens or None
    if args.quote_share is not None:
        rag.ask.answer.QUOTE_SHARE = args.quote_share
    if args.prompt_seconds is not None and hasattr(rag.ask.answer, "PROMPT_SECONDS"):
        rag.ask.answer.PROMPT_SECONDS = args.prompt_seconds or None
    print(f"prompt: {args.prompt}, sources limited to {getattr(rag.ask.answer, 'PROMPT_TOKENS', None)} tokens, "
          f"{getattr(rag.ask.answer, 'PROMPT_SECONDS', None)} s")
    if args.prompt in ("all", "unquoted"):
        rag.ask.answer.PROMPT_PASSAGES = args.prompt
    elif args.prompt == "before":
        rag.ask.answer.SYSTEM_PROMPT = BEFORE_PROMPT
        lib.quotes.config = dataclasses.replace(lib.quotes.config, quotes=0)
    gen = LlamaGenerator(args.model or default_llm_path(models_dir()))
    gen.warm_up()
    print(f"prompt speed measured at load: {getattr(gen, 'prompt_rate', None) or 0:.0f} tokens/s")
    ttft: list[float] = []
    prompts: list[Any] = []  # rag.ask.generation.PromptStats, where the generator keeps them
    verdicts: Counter[str] = Counter()
    cited = bare = 0
    t0 = time.perf_counter()
    shown = 0
    for t in answerable:
        first: list[float] = []
        t1 = time.perf_counter()
        ans = lib.ask(t["query"], gen, k=args.k, max_tokens=160,
                      on_token=lambda _p, t1=t1, first=first: first or first.append(time.perf_counter() - t1))
        ttft += first
        if first and getattr(gen, "last_prompt", None) is not None:
            prompts.append(gen.last_prompt)
        verdicts.update(c.verdict.value for c in ans.checks)
        cited += bool(ans.checks) and any(c.sources for c in ans.checks)
        bare += ans.text.strip().rstrip(".").lower() in ("yes", "no")
        if shown < args.show:
            shown += 1
            print(f"\nQ: {t['query'][-110:]}\nA: {ans.text}")
            for c in ans.checks:
                print(f"   {c.verdict.value:12} {c.reason}")
    declined = 0
    for q in unanswerable:
        ans = lib.ask(q, gen, k=args.k, max_tokens=160)
        declined += (not ans.grounded) or not any(c.verdict.value == "supported" and c.sources for c in ans.checks)
    total = sum(verdicts.values()) or 1
    secs = time.perf_counter() - t0
    print(f"\ngenerated with {Path(gen.model_path).name} ({gen.backend}), {len(answerable)} + {len(unanswerable)} questions in {secs:.0f} s")
    print("  sentences: " + ", ".join(f"{k} {v / total:.3f}" for k, v in sorted(verdicts.items())) + f" (of {total})")
    print(f"  answers citing a source: {cited / len(answerable):.3f}; bare yes/no answers: {bare}")
    print(f"  unanswerable declined (gate, or nothing supported): {declined / len(unanswerable):.3f}")
    if ttft:
        print(f"  time to first token (question to first streamed token): p50 {statistics.median(ttft):.2f} s"
              f" over {len(ttft)}, p90 {sorted(ttft)[int(0.9 * (len(ttft) - 1))]:.2f} s")
    if prompts:
        print(f"  prompt tokens: p50 {statistics.median(p.tokens for p in prompts):.0f}, of which computed "
              f"p50 {statistics.median(p.evaluated for p in prompts):.0f} (the rest reused from the KV cache); "
              f"prompt processing p50 {statistics.median(p.tokens_per_second for p in prompts):.0f} tokens/s, "
              f"{statistics.median(p.eval_seconds for p in prompts):.2f} s; generator call to first text p50 "
              f"{statistics.median(p.first_token_seconds for p in prompts):.2f} s")
    gen.close()


if __name__ == "__main__":
    raise SystemExit(main())
