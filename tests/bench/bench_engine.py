"""Engine benchmark (issue 2): ingest throughput vs the embedder alone, search latency,
and ask's time-to-first-token and tokens/s vs raw llama-cpp-python on the same prompt.

    .venv/bin/python tests/bench/bench_engine.py [--files 20] [--corpus ../shared/corpus/cuad-dev]

Prints its figures; asserts nothing (timings are measured, never asserted in tests).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import rag  # noqa: E402,F401
from rag.ask.answer import SYSTEM_PROMPT, build_user_prompt, fit_passages, format_source  # noqa: E402
from rag.ask.generation import REPEAT_PENALTY, LlamaGenerator  # noqa: E402
from rag.library import Library  # noqa: E402
from rag.models.defaults import default_llm_path  # noqa: E402
from rag.models.embedder import SentenceTransformerEmbedder  # noqa: E402


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def bench_ingest(lib: Library, files: list[Path], emb: SentenceTransformerEmbedder) -> None:
    t0 = time.perf_counter()
    report = lib.ingest(files)
    secs = time.perf_counter() - t0
    pages = sum(r.pages for r in report.results)
    chunks = sum(r.chunks for r in report.results)
    print(f"ingest: {len(files)} files, {pages} pages, {chunks} chunks in {secs:.1f} s "
          f"-> {pages / secs:.1f} pages/s, {chunks / secs:.1f} chunks/s  (failed: {len(report.failed)})")
    texts = []
    with lib.manifest._lock:
        rows = lib.manifest._db.execute("SELECT heading, text FROM chunks ORDER BY id").fetchall()
    texts = [f"{h}\n{t}" if h else t for h, t in rows]
    t0 = time.perf_counter()
    emb.embed(texts)
    esecs = time.perf_counter() - t0
    print(f"embedder alone on the same {len(texts)} chunks: {esecs:.1f} s -> {len(texts) / esecs:.1f} chunks/s")
    print(f"pipeline / embedder throughput ratio: {(chunks / secs) / (len(texts) / esecs):.3f}")


def bench_search(lib: Library, queries: list[str]) -> None:
    lib.search(queries[0], 8)  # warm
    lat = []
    for q in queries:
        t0 = time.perf_counter()
        lib.search(q, 8)
        lat.append((time.perf_counter() - t0) * 1000)
    print(f"search over {len(queries)} queries (k=8): p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, "
          f"mean {statistics.mean(lat):.1f} ms")


def bench_ask(lib: Library, gen: LlamaGenerator, questions: list[str], max_tokens: int) -> None:
    import llama_cpp

    ask_ttft, ask_tps, raw_ttft, raw_tps = [], [], [], []
    raw = llama_cpp.Llama(str(gen.model_path), n_ctx=gen.context_size, n_threads=gen.threads, verbose=False, seed=0)
    for q in questions:
        # ask: retrieval, fitting, prompt, generation, as the user gets it
        times: list[float] = []
        t0 = time.perf_counter()
        ans = lib.ask(q, gen, k=8, max_tokens=max_tokens, on_token=lambda _t, ts=times: ts.append(time.perf_counter()))
        if not times:
            continue
        ask_ttft.append(times[0] - t0)
        n_tokens = gen.count_tokens(ans.text)
        if len(times) > 1:
            ask_tps.append(max(1, n_tokens - 1) / (times[-1] - times[0]))
        # raw: the identical prompt straight into llama-cpp-python
        passages = fit_passages(gen, q, lib.search(q, 8), max_tokens)
        user = build_user_prompt(q, [format_source(i + 1, p) for i, p in enumerate(passages)])
        prompt = gen.plain_prompt(SYSTEM_PROMPT, user)
        rt: list[float] = []
        text = []
        t0 = time.perf_counter()
        for c in raw.create_completion(prompt, max_tokens=max_tokens, temperature=0.1, stream=True,
                                       repeat_penalty=REPEAT_PENALTY,
                                       stop=["\nQuestion:", "\nSources:", "\n\n\n"]):
            rt.append(time.perf_counter())
            text.append(c["choices"][0]["text"])
        if rt:
            raw_ttft.append(rt[0] - t0)
            if len(rt) > 1:
                raw_tps.append(max(1, gen.count_tokens("".join(text)) - 1) / (rt[-1] - rt[0]))
    print(f"ask:  TTFT p50 {statistics.median(ask_ttft) * 1000:.0f} ms, tokens/s {statistics.median(ask_tps):.1f}")
    print(f"raw:  TTFT p50 {statistics.median(raw_ttft) * 1000:.0f} ms, tokens/s {statistics.median(raw_tps):.1f}")
    print(f"overhead: TTFT {(statistics.median(ask_ttft) / statistics.median(raw_ttft) - 1) * 100:+.1f} %, "
          f"tokens/s {(1 - statistics.median(ask_tps) / statistics.median(raw_tps)) * 100:+.1f} % slower")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "cuad-dev")
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--only-ask", action="store_true", help="skip the ingest and search figures")
    args = ap.parse_args()
    files = sorted((args.corpus / "pdf").iterdir())[: args.files]
    tests = json.loads((args.corpus / "tests.json").read_text())
    emb = SentenceTransformerEmbedder()
    emb.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(Path(tmp) / "lib", emb)
        if args.only_ask:
            lib.ingest(files)
        else:
            bench_ingest(lib, files, emb)
            lib.ingest(sorted((args.corpus / "pdf").iterdir()))  # all 60 for search latency
            bench_search(lib, [t["query"] for t in tests])
        model = args.model or default_llm_path(Path(tmp) / "models")
        gen = LlamaGenerator(model, context_size=4096)
        gen.warm_up()
        print(f"model: {model.name}, backend {gen.backend}, context {gen.context_size}")
        names = {p.name for p in files}
        qs = [t["query"] for t in tests if t["file"] in names][: args.questions]
        bench_ask(lib, gen, qs, args.max_tokens)
        lib.close()


if __name__ == "__main__":
    main()
