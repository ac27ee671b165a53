"""Answers from a server against answers in-process: time to the first token and tokens
per second, same model, same questions, same prompts, on this machine.

Run by hand (not part of the test suite)::

    .venv/bin/python tests/bench/remote_bench.py [--model FILE.gguf] [--questions 8] [--max-tokens 96]

The server is llama-cpp-python's (``python -m llama_cpp.server``) on loopback, loaded with
the same GGUF, the same llama.cpp build and the same threads as the in-process model, so
the difference is the overhead of HTTP, JSON and server-sent events (and of the server's
own request handling), not the hardware. The two never run at once, but take turns
prompt by prompt, so that a machine busy with other work slows both alike.
Prompts are the real answer prompts (rag.ask.answer's system prompt, quotes and passages
of the bundled sample NDA), one per question; both sides get the same strings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import rag  # noqa: E402, F401  (offline switches first)

QUESTIONS = [
    "How can either party terminate the agreement?",
    "How long does the agreement last?",
    "Which law governs the agreement?",
    "What counts as confidential information?",
    "Who are the parties to the agreement?",
    "What must happen to confidential information when the agreement ends?",
    "Can a party assign the agreement?",
    "When did the agreement start?",
]


def prompts(n: int) -> list[tuple[str, str]]:
    """(system, user) answer prompts over the sample NDA's pages, as rag.ask.answer builds them."""
    from pypdf import PdfReader

    from rag.ask.answer import SYSTEM_PROMPT, build_user_prompt, format_source
    from rag.types import Passage

    pages = [p.extract_text() or "" for p in PdfReader(REPO / "assets/samples/sample-mutual-nda.pdf").pages]
    passages = [Passage("sample-mutual-nda.pdf", i + 1, 0, len(t), t, 1.0) for i, t in enumerate(pages)]
    sources = [format_source(i + 1, p) for i, p in enumerate(passages)]
    return [(SYSTEM_PROMPT, build_user_prompt(q, sources)) for q in (QUESTIONS * 4)[:n]]


def run(gen: Any, items: list[tuple[str, str]], max_tokens: int) -> list[tuple[float, float, int]]:
    """(seconds to first piece, tokens/s after it, pieces) per prompt."""
    from rag.cancel import CancelToken

    out = []
    for system, user in items:
        started = time.perf_counter()
        first = None
        pieces = 0
        for _piece in gen.stream(system, user, max_tokens, CancelToken()):
            pieces += 1
            if first is None:
                first = time.perf_counter()
        end = time.perf_counter()
        if first is None:
            continue
        rate = (pieces - 1) / (end - first) if pieces > 1 and end > first else 0.0
        out.append((first - started, rate, pieces))
    return out


def summary(name: str, rows: list[tuple[float, float, int]]) -> str:
    ttft = sorted(r[0] for r in rows)
    rates = [r[1] for r in rows if r[1] > 0]
    p90 = ttft[min(len(ttft) - 1, int(0.9 * len(ttft)))]
    return (f"{name:<22} first token p50 {statistics.median(ttft):.3f} s  p90 {p90:.3f} s   "
            f"{statistics.median(rates):6.1f} tokens/s (median)   {sum(r[2] for r in rows)} tokens in {len(rows)} answers")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None, help="GGUF (default: the bundled Gemma 3 270M)")
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--ctx", type=int, default=4096)
    args = ap.parse_args()

    from rag.ask.generation import LlamaGenerator, physical_cores
    from rag.ask.remote import RemoteGenerator
    from rag.ask.server_config import ServerConfig
    from rag.models.defaults import default_llm_path
    from rag.paths import models_dir
    from tests.helpers.openai_server import start_server

    model = args.model or default_llm_path(models_dir())
    threads = args.threads or physical_cores()
    items = prompts(args.questions)
    warm = items[:1]  # one answer each side first: pages the weights in, fills the prompt cache alike

    local = LlamaGenerator(model, context_size=args.ctx, threads=threads, gpu="cpu")
    local.warm_up()
    print(f"model {model.name}, {threads} threads, {local.backend}; prompts of ~{local.count_tokens(items[0][1])} "
          f"tokens, answers of at most {args.max_tokens}", flush=True)
    local_rows: list[tuple[float, float, int]] = []
    remote_rows: list[tuple[float, float, int]] = []
    with tempfile.TemporaryDirectory() as d:
        server = start_server(model, Path(d) / "server.log", alias=model.stem, ctx=args.ctx, threads=threads)
        try:
            remote = RemoteGenerator(ServerConfig(url=server.url, enabled=True, context_size=args.ctx),
                                     calibrate=False)
            remote.warm_up()
            run(local, warm, args.max_tokens)
            run(remote, warm, args.max_tokens)
            for item in items:
                local_rows += run(local, [item], args.max_tokens)
                remote_rows += run(remote, [item], args.max_tokens)
            remote.close()
        finally:
            server.stop()
            local.close()
    print(summary("in-process", local_rows))
    print(summary("server on loopback", remote_rows))
    lt = statistics.median(r[0] for r in local_rows)
    rt = statistics.median(r[0] for r in remote_rows)
    print(f"overhead: first token +{(rt - lt) * 1000:.0f} ms (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
