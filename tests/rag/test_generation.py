"""llama.cpp for real: the tiny random Llama for speed, the bundled Gemma once."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ask.answer import NOT_FOUND, NOT_STATED, fit_passages, format_source
from rag.ask.generation import LlamaGenerator, ModelLoadError
from rag.cancel import CancelToken
from rag.library import Library
from rag.types import Passage


def _passage(i: int, text: str) -> Passage:
    return Passage(file=f"doc{i}.pdf", page=i, start=0, end=len(text), text=text, score=1.0 / i)


@pytest.fixture(scope="module")
def tiny(tiny_gguf: Path) -> LlamaGenerator:
    g = LlamaGenerator(tiny_gguf, context_size=2048)
    g.warm_up()
    return g


def test_loads_with_template_and_reports_backend(tiny: LlamaGenerator) -> None:
    assert tiny.has_chat_template
    assert tiny.backend.startswith("CPU")  # no GPU here; on a CUDA build this would say CUDA
    assert tiny.context_size == 2048


def test_streams_tokens(tiny: LlamaGenerator) -> None:
    pieces = list(tiny.stream("Be brief.", "Say something.", 20, CancelToken()))
    assert len(pieces) >= 2 and all(isinstance(p, str) for p in pieces)


def test_cancel_stops_within_one_token(tiny: LlamaGenerator) -> None:
    token = CancelToken()
    got: list[str] = []
    for piece in tiny.stream("Be brief.", "Talk for a long time.", 200, token):
        got.append(piece)
        if len(got) == 3:
            token.set()
    assert len(got) == 3


def test_plain_prompt_when_gguf_has_no_template(tiny_gguf_plain: Path) -> None:
    g = LlamaGenerator(tiny_gguf_plain, context_size=256)
    g.warm_up()
    assert not g.has_chat_template
    assert list(g.stream("Be brief.", "Hello", 5, CancelToken()))


def test_passages_fit_the_context(tiny: LlamaGenerator) -> None:
    text = "The tenant shall pay the rent monthly in advance. " * 12
    passages = [_passage(i, text) for i in range(1, 10)]
    chosen = fit_passages(tiny, "When is rent due?", passages, answer_tokens=128)
    assert 0 < len(chosen) < len(passages)
    assert chosen == passages[: len(chosen)]  # best first
    used = sum(tiny.count_tokens(format_source(i + 1, p)) for i, p in enumerate(chosen))
    assert used + 128 <= tiny.context_size


def test_an_oversized_best_passage_is_truncated_not_dropped(tiny: LlamaGenerator) -> None:
    huge = _passage(1, "Payment is due within thirty days of invoice. " * 100)
    (chosen,) = fit_passages(tiny, "When is payment due?", [huge], answer_tokens=128)
    assert huge.text.startswith(chosen.text) and 0 < len(chosen.text) < len(huge.text)


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        LlamaGenerator(tmp_path / "nope.gguf").warm_up()
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelLoadError):
        LlamaGenerator(junk).warm_up()


def test_ask_cites_and_refuses_when_nothing_relevant(library: Library, sample_pdf: Path, tiny: LlamaGenerator) -> None:
    assert not library.ask("What is the notice period?", tiny).grounded  # empty library
    library.ingest([sample_pdf])
    streamed: list[str] = []
    events: list[object] = []
    ans = library.ask("How much notice is needed to terminate for convenience?", tiny,
                      on_token=lambda piece: (streamed.append(piece), events.append("token")),
                      on_quotes=events.append)
    assert ans.grounded and ans.citations and ans.backend.startswith("CPU")
    # The quotes come first, before any token, and hold the clause verbatim.
    assert events[0] == ans.quotes and "token" not in events[:1]
    assert "thirty (30) days" in ans.quotes[0].text
    assert ans.citations[0].passage.page == 2 and "thirty (30) days" in ans.citations[0].passage.text
    # A random model's babble is backed by nothing: every sentence marked, and said so.
    assert ans.text.startswith("".join(streamed).strip()[:20])
    assert ans.checks and all(c.verdict.value != "supported" for c in ans.checks)
    assert ans.text.endswith(NOT_STATED)
    off_topic = library.ask("Which football team won the 1998 world cup in Paris?", tiny)
    assert not off_topic.grounded and off_topic.text == NOT_FOUND and off_topic.citations == []


@pytest.mark.slow
def test_bundled_gemma_answers(library: Library, sample_pdf: Path, gemma_gguf: Path) -> None:
    g = LlamaGenerator(gemma_gguf, context_size=2048)
    library.ingest([sample_pdf])
    ans = library.ask("Which state's law governs the agreement?", g, k=4)
    assert ans.text and ans.citations
    assert any("Oregon" in c.passage.text for c in ans.citations)
    g.close()


def test_gpu_load_failure_falls_back_to_cpu(tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No GPU here: pretend llama.cpp has offload support and the GPU load fails."""
    import llama_cpp

    real = llama_cpp.Llama

    def fake_llama(*args, n_gpu_layers: int = 0, **kwargs):
        if n_gpu_layers != 0:
            raise ValueError("CUDA error: out of memory")
        return real(*args, n_gpu_layers=n_gpu_layers, **kwargs)

    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    monkeypatch.setattr(llama_cpp, "Llama", fake_llama)
    g = LlamaGenerator(tiny_gguf, context_size=256)
    g.warm_up()
    assert g.backend.startswith("CPU (GPU load failed: CUDA error: out of memory")
    assert list(g.stream("Be brief.", "Hi", 3, CancelToken()))


def test_gpu_offload_when_supported(tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    real = llama_cpp.Llama
    seen: list[int] = []

    def spy(*args, n_gpu_layers: int = 0, **kwargs):
        seen.append(n_gpu_layers)
        return real(*args, n_gpu_layers=n_gpu_layers, **kwargs)

    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: b"CUDA : ARCHS = 900 | CPU : AVX2 = 1")
    monkeypatch.setattr(llama_cpp, "Llama", spy)
    g = LlamaGenerator(tiny_gguf, context_size=256)
    g.warm_up()
    assert seen == [-1] and g.backend == "CUDA"
    cpu = LlamaGenerator(tiny_gguf, context_size=256, gpu="cpu")
    cpu.warm_up()
    assert seen == [-1, 0] and cpu.backend.startswith("CPU")
