"""llama.cpp in-process through llama-cpp-python: one model, used by one worker at a time.

Any GGUF works. If the file carries a chat template we use it (llama-cpp-python renders
it with Jinja); otherwise we send a plain completion prompt rather than guess a format.
All layers go to the GPU when llama.cpp was built with offload support; if loading there
fails we fall back to the CPU and say so in :attr:`LlamaGenerator.backend`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.cancel import CancelToken


class ModelLoadError(RuntimeError):
    pass


def _gpu_backend_name() -> str:
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    for key, name in (("CUDA", "CUDA"), ("METAL", "Metal"), ("MTL", "Metal"), ("VULKAN", "Vulkan"),
                      ("HIP", "ROCm"), ("SYCL", "SYCL")):
        if key in text.upper():
            return name
    return "GPU"


# Small models loop on a sentence without it; 1.1–1.2 is llama.cpp's usual range.
REPEAT_PENALTY = 1.15

# Prompt tokens per llama_decode call. Answer prompts are 1-2k tokens on CPU: bigger
# batches mean fewer passes over the weights (measured: tests/bench/answer_bench.py).
N_BATCH = 512

# Tokens of the prompt evaluated at load to measure this machine's prompt-processing speed
# (answers size their prompts by it: rag/ask/answer.py, PROMPT_SECONDS). It also pages the
# weights in, which the first question would otherwise wait for. 512 tokens ran within 7%
# of the speed of 1,000-1,700-token answer prompts with Gemma 3 270M on a 2-core CPU.
CALIBRATION_TOKENS = 512
_CALIBRATION_TEXT = (
    "The Supplier shall deliver the Products to the Buyer at the place named in each order, "
    "and the Buyer shall pay each invoice within thirty days of its date. "
)

# Small models that lose the thread start writing the prompt's own sections.
STOP = ("\nQuestion", "\nSources:", "\nKey quotes:", "\nAnswer:")

_log_cb: Any = None


def llama_info() -> dict[str, Any]:
    """llama.cpp's version, the build chosen for this machine and why others were skipped,
    and whether it can offload to a GPU (loads no model). The build is chosen first: once
    ``llama_cpp`` is imported, its library is the one the process keeps."""
    from rag.ask.cpu_builds import NoUsableBuild
    from rag.ask.llama_backend import select

    try:
        choice = select()
    except NoUsableBuild as err:
        return {"build": None, "error": str(err)}
    import llama_cpp

    return {"llama_cpp": llama_cpp.__version__, "build": choice.label, "skipped": choice.skipped,
            "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload())}


def physical_cores() -> int:
    """CPU cores, not hardware threads: llama.cpp's matrix work gains nothing from a core's
    second thread and loses to the contention."""
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
    except ImportError:  # pragma: no cover (psutil is a dependency)
        n = None
    return max(1, n or os.cpu_count() or 2)


@dataclass(frozen=True)
class PromptStats:
    """The prompt of the last answer: its tokens, how many were computed (the rest came
    from the KV cache of the previous prompt, which starts with the same system prompt),
    and the time from the call to the first generated text."""

    tokens: int
    evaluated: int
    eval_seconds: float  # llama.cpp's own prompt-processing time
    first_token_seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.evaluated / self.eval_seconds if self.eval_seconds > 0 else 0.0


def _quiet_llama_log() -> None:
    """llama.cpp prints warnings to stderr even with verbose=False; keep errors only."""
    global _log_cb
    if _log_cb is not None:
        return
    import ctypes
    import sys

    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def _cb(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        if level == 4:  # GGML_LOG_LEVEL_ERROR (0 none, 1 debug, 2 info, 3 warn, 5 cont)
            sys.stderr.write(text.decode(errors="replace"))

    _log_cb = _cb  # keep a reference: the C side holds only a pointer
    llama_cpp.llama_log_set(_log_cb, ctypes.c_void_p(0))


class LlamaGenerator:
    """Cheap to construct; :meth:`warm_up` loads the model."""

    def __init__(
        self,
        model_path: Path,
        *,
        context_size: int = 4096,
        threads: int | None = None,
        gpu: str = "auto",  # "auto" | "cpu"
        seed: int = 0,
    ) -> None:
        self.model_path = Path(model_path)
        self.requested_context = context_size
        self.context_size = context_size
        self.threads = threads
        self.gpu = gpu
        self.seed = seed
        self.backend = "not loaded"
        self.has_chat_template = False
        self._llm: Any = None
        self._lock = threading.Lock()  # a llama context is not thread-safe
        self.last_prompt: PromptStats | None = None
        # Prompt tokens per second on this machine: measured at load, then followed by
        # every answer's prompt (None until loaded).
        self.prompt_rate: float | None = None
        self._rate_followed = False

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def warm_up(self) -> None:
        if self._llm is not None:
            return
        if not self.model_path.is_file():
            raise ModelLoadError(f"model file not found: {self.model_path}")
        from rag.ask.cpu_builds import NoUsableBuild
        from rag.ask.llama_backend import select
        from rag.models.defaults import verify_model

        verify_model(self.model_path)  # a bundled model is checked against its build-time hash
        try:
            choice = select(want_gpu=self.gpu != "cpu")  # before llama_cpp loads its library
        except NoUsableBuild as err:
            raise ModelLoadError(f"this computer cannot run the language model ({err})") from None
        import llama_cpp

        _quiet_llama_log()
        threads = self.threads or physical_cores()
        kwargs: dict[str, Any] = dict(
            model_path=str(self.model_path),
            n_ctx=self.requested_context,
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=N_BATCH,
            seed=self.seed,
            verbose=False,
        )
        offload = self.gpu != "cpu" and bool(llama_cpp.llama_supports_gpu_offload())
        llm = None
        note = f" ({choice.note()})" if choice.note() else ""
        if offload:
            try:
                llm = llama_cpp.Llama(n_gpu_layers=-1, **kwargs)
                self.backend = _gpu_backend_name()
            except Exception as err:  # noqa: BLE001 (any GPU failure: fall back to CPU)
                note = f" (GPU load failed: {str(err)[:80]})"
        if llm is None:
            try:
                llm = llama_cpp.Llama(n_gpu_layers=0, **kwargs)
            except Exception as err:  # noqa: BLE001
                raise ModelLoadError(f"could not load {self.model_path.name}: {err}") from err
            self.backend = ("CPU" if offload else choice.label) + note
        self.context_size = int(llm.n_ctx())
        self.has_chat_template = bool(llm.metadata.get("tokenizer.chat_template"))
        self.prompt_rate, self._rate_followed = self._calibrate(llm), False
        self._llm = llm

    def _calibrate(self, llm: Any) -> float | None:
        """Prompt tokens per second, from evaluating a prompt of CALIBRATION_TOKENS."""
        text = _CALIBRATION_TEXT * (CALIBRATION_TOKENS // 20)
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True)[: min(CALIBRATION_TOKENS, self.context_size // 2)]
        try:
            import llama_cpp

            started = time.perf_counter()
            llm.eval(tokens)
            # Waits for the work queued (a GPU's) and books it in llama.cpp's counters
            # now, not in the first answer's prompt statistics.
            llama_cpp.llama_synchronize(llm.ctx)
            seconds = time.perf_counter() - started
        except Exception:  # noqa: BLE001 (a measurement only: answers then take every source)
            return None
        finally:
            llm.reset()
        return len(tokens) / seconds if seconds > 0 else None

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None
                self.backend = "not loaded"

    def count_tokens(self, text: str) -> int:
        self.warm_up()
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def metadata(self) -> dict[str, str]:
        self.warm_up()
        return dict(self._llm.metadata)

    def stream(self, system: str, user: str, max_tokens: int, cancel: CancelToken) -> Iterator[str]:
        """Yield text pieces as they are generated; stops within one token of ``cancel``."""
        self.warm_up()
        with self._lock:
            import llama_cpp

            started = time.perf_counter()
            llama_cpp.llama_perf_context_reset(self._llm.ctx)
            self.last_prompt = None
            if self.has_chat_template:
                it = self._llm.create_chat_completion(
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                    max_tokens=max_tokens,
                    temperature=0.1,
                    repeat_penalty=REPEAT_PENALTY,
                    stop=list(STOP),
                    stream=True,
                )
                pieces = (c["choices"][0]["delta"].get("content") or "" for c in it)
            else:
                it = self._llm.create_completion(
                    self.plain_prompt(system, user),
                    max_tokens=max_tokens,
                    temperature=0.1,
                    repeat_penalty=REPEAT_PENALTY,
                    stop=[*STOP, "\n\n\n"],
                    stream=True,
                )
                pieces = (c["choices"][0]["text"] or "" for c in it)
            try:
                for piece in pieces:
                    if cancel.is_set:
                        break
                    if piece:
                        if self.last_prompt is None:
                            self.last_prompt = self._prompt_stats(time.perf_counter() - started)
                            self._follow_rate(self.last_prompt)
                        yield piece
            finally:
                it.close()

    def _prompt_stats(self, first_token: float) -> PromptStats:
        import llama_cpp

        perf = llama_cpp.llama_perf_context(self._llm.ctx)
        # Tokens in the context now, less those generated one by one so far.
        tokens = int(self._llm.n_tokens) - int(perf.n_eval)
        return PromptStats(tokens, int(perf.n_p_eval), perf.t_p_eval_ms / 1000, first_token)

    def _follow_rate(self, stats: PromptStats) -> None:
        """Move the speed estimate towards what this prompt took (the machine may be busy
        or idle now); prompts of a few tokens say little and are left out."""
        if stats.evaluated < 128 or stats.eval_seconds <= 0:
            return
        rate = stats.tokens_per_second
        # The first answer's prompt replaces the load-time measurement, which may have run
        # while the app was busy opening a library or adding documents.
        first = not self._rate_followed
        self._rate_followed = True
        self.prompt_rate = rate if first or self.prompt_rate is None else 0.5 * self.prompt_rate + 0.5 * rate

    @staticmethod
    def plain_prompt(system: str, user: str) -> str:
        return f"{system}\n\n{user}\n\nAnswer:"

    def prompt_overhead(self, system: str, user: str) -> int:
        """Tokens the template or plain prompt adds around system and user text."""
        if not self.has_chat_template:
            return self.count_tokens(self.plain_prompt(system, user))
        return self.count_tokens(system) + self.count_tokens(user) + 32
