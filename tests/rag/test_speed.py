"""Speed without a change of results: the embedder's device and precision, the prompt's
statistics, and work never done twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rag.ask import answer as answer_mod
from rag.ask.generation import LlamaGenerator
from rag.cancel import CancelToken
from rag.library import Library
from rag.models.embedder import PRECISION_ENV, Hardware, SentenceTransformerEmbedder, choose_device
from rag.types import Outcome
from tests.helpers.pdfs import make_text_pdf

REPO = Path(__file__).resolve().parents[2]


def _torch(cuda: bool = False, mps: bool = False) -> SimpleNamespace:
    return SimpleNamespace(cuda=SimpleNamespace(is_available=lambda: cuda),
                           backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)))


def test_device_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    monkeypatch.delenv("DOCQA_EMBED_DEVICE", raising=False)
    monkeypatch.setattr("rag.models.embedder.cpu_bf16_feature", lambda: "AVX512-BF16")
    assert choose_device(_torch(cuda=True)) == Hardware("cuda", "fp32", "")
    assert choose_device(_torch(mps=True)).device == "mps"
    assert choose_device(_torch()) == Hardware("cpu", "bf16", "AVX512-BF16")
    monkeypatch.setattr("rag.models.embedder.cpu_bf16_feature", lambda: "")
    assert choose_device(_torch()) == Hardware("cpu", "fp32", "")
    monkeypatch.setenv(PRECISION_ENV, "bf16")  # a benchmark forcing it
    assert choose_device(_torch()).precision == "bf16"
    assert str(Hardware("cpu", "bf16", "AMX")) == "CPU, bfloat16 (AMX)"


@pytest.mark.slow
def test_bf16_vectors_match_fp32(embedder: SentenceTransformerEmbedder) -> None:
    """Wherever bfloat16 is chosen its vectors must stand in for fp32 ones (a library's
    vectors come from both: older ingests, other machines)."""
    texts = [
        "The Licensee shall not assign this Agreement without the prior written consent of the Licensor.",
        "12.3 Termination for Convenience\nEither party may terminate this Agreement on ninety days notice.",
        "This Agreement shall be governed by the laws of the State of New York.",
        "Payment is due within thirty (30) days of the invoice date.",
    ]
    fp32 = SentenceTransformerEmbedder(precision="fp32").embed(texts)
    bf16 = SentenceTransformerEmbedder(precision="bf16").embed(texts)
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert float((fp32 * bf16).sum(axis=1).min()) > 0.999
    assert embedder.hardware is not None  # chosen and reported once loaded


def test_unchanged_file_costs_a_hash(library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = make_text_pdf(tmp_path / "lease.pdf", [["The rent is 1,000 dollars per month, due on the first day."]])
    assert library.ingest([f]).results[0].outcome is Outcome.INDEXED
    calls: list[str] = []
    monkeypatch.setattr(library.embedder, "embed", lambda texts: calls.append("embed"))
    monkeypatch.setattr(library.registry, "parse", lambda path: calls.append("parse"))
    report = library.ingest([f])
    assert report.results[0].outcome is Outcome.UNCHANGED and calls == []


def test_prompt_stats_and_cached_system_prompt(tiny_gguf: Path) -> None:
    g = LlamaGenerator(tiny_gguf, context_size=1024)
    system = "Answer from the sources only. " * 8
    list(g.stream(system, "Say something about rent.", 4, CancelToken()))
    first = g.last_prompt
    assert first is not None and first.tokens > 40 and first.evaluated == first.tokens
    list(g.stream(system, "Something else entirely: notice periods.", 4, CancelToken()))
    second = g.last_prompt
    # The system prompt's tokens come from the KV cache of the previous answer.
    assert second is not None and second.evaluated < second.tokens - 40
    assert second.first_token_seconds > 0
    g.close()


def test_sources_in_the_prompt_are_capped(tiny_gguf: Path) -> None:
    g = LlamaGenerator(tiny_gguf, context_size=1024)
    sources = [f"[{i}] lease.pdf, page {i}\n" + "The tenant pays rent monthly. " * 5 for i in range(1, 7)]
    budget = 3 * g.count_tokens(sources[0]) + 8
    kept = answer_mod._fit_sources(g, sources, budget)
    assert kept == sources[:3]
    assert answer_mod._fit_sources(g, sources, 5) == sources[:1]  # never nothing
    g.close()


def test_prompt_speed_is_measured_at_load_and_followed(tiny_gguf: Path) -> None:
    g = LlamaGenerator(tiny_gguf, context_size=1024)
    assert g.prompt_rate is None
    g.warm_up()
    measured = g.prompt_rate
    assert measured is not None and measured > 0
    assert g._llm.n_tokens == 0  # the measurement leaves nothing in the context
    list(g.stream("Answer from the sources. " * 8, "What is the rent?", 2, CancelToken()))
    assert g.last_prompt is not None and g.last_prompt.evaluated >= 128
    assert g.prompt_rate != measured  # half the way to what this prompt took
    g.close()


def test_prompt_holds_what_the_model_reads_in_the_time_budget(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.types import Passage, Quote

    class Recording(LlamaGenerator):  # the real model; keeps the prompt it was given
        def stream(self, system: str, user: str, max_tokens: int, cancel: CancelToken):  # type: ignore[no-untyped-def]
            self.user = user
            yield from super().stream(system, user, max_tokens, cancel)

    g = Recording(tiny_gguf, context_size=4096)
    g.warm_up()
    text = "The tenant pays the rent of 1,000 dollars monthly, on the first day of each month. " * 12
    passages = [Passage(f"lease{i}.pdf", 1, 0, len(text), text, 1.0 - i / 10) for i in range(6)]
    quotes = [Quote(i + 1, p, 0, 80, p.text[:80]) for i, p in enumerate(passages[:2])]

    def prompt_tokens() -> int:
        answer_mod.answer("What is the rent?", passages, g, quotes=lambda ps: list(quotes), answer_tokens=8)
        return g.count_tokens(g.user)

    monkeypatch.setattr(answer_mod, "PROMPT_SECONDS", None)
    assert answer_mod.source_budget(g, "What is the rent?") is None
    everything = prompt_tokens()
    monkeypatch.setattr(answer_mod, "PROMPT_SECONDS", 1.0)
    g.prompt_rate = 100.0  # a slow machine: the floor, the best quotes first
    assert answer_mod.source_budget(g, "What is the rent?") == answer_mod.MIN_SOURCE_TOKENS
    budgeted = prompt_tokens()
    assert budgeted < everything - 200
    g.prompt_rate = 1e6  # a GPU: only the context limits
    assert (answer_mod.source_budget(g, "What is the rent?") or 0) > 4096
    monkeypatch.setattr(answer_mod, "PROMPT_TOKENS", 300)  # a fixed budget wins
    assert answer_mod.source_budget(g, "What is the rent?") == 300
    g.close()


def test_info_reports_where_models_run(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "rag.cli", "--library", str(tmp_path / "lib"), "info", "--json"],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["embedder"]["device"] in ("cpu", "cuda", "mps")
    assert info["embedder"]["precision"] in ("fp32", "bf16")
    assert info["language_model"]["threads"] >= 1
