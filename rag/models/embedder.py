"""sentence-transformers embeddings, loaded from a local folder only.

The device and precision are chosen for the hardware present (:func:`choose_device`) and
reported (:attr:`SentenceTransformerEmbedder.hardware`): a CUDA GPU, Apple's MPS, or the
CPU, where x86 CPUs with native bfloat16 (AVX512-BF16 or AMX) run under bfloat16 autocast.
Measured on cuad passages (tests/bench/embed_bench.py): bfloat16 autocast keeps a mean
cosine of 0.99998 to the fp32 vectors, so a library's vectors stay interchangeable.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.models.defaults import default_embedder_path

# DOCQA_EMBED_DEVICE (cpu, cuda, mps) and DOCQA_EMBED_PRECISION (fp32, bf16) override the
# choice: benchmarks compare both, and a user can fall back if a driver misbehaves.
DEVICE_ENV = "DOCQA_EMBED_DEVICE"
PRECISION_ENV = "DOCQA_EMBED_PRECISION"


@dataclass(frozen=True)
class Hardware:
    """Where and how the embedder runs, with the reason, in words a status bar can show."""

    device: str  # "cpu", "cuda", "mps"
    precision: str  # "fp32", "bf16"
    reason: str = ""

    def __str__(self) -> str:
        name = {"cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}.get(self.device, self.device)
        prec = {"bf16": "bfloat16", "fp32": "float32"}.get(self.precision, self.precision)
        return f"{name}, {prec}" + (f" ({self.reason})" if self.reason else "")


def cpu_bf16_feature() -> str:
    """The CPU's native bfloat16 instructions ("AMX", "AVX512-BF16") or "" if none (or
    unknown: only Linux says, through /proc/cpuinfo; elsewhere we stay with fp32)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    if "amx_bf16" in flags:
                        return "AMX"
                    if "avx512_bf16" in flags:
                        return "AVX512-BF16"
                    return ""
    except OSError:
        pass
    return ""


def choose_device(torch: Any) -> Hardware:
    """The fastest place to embed that keeps the vectors: a GPU if any, else the CPU, in
    bfloat16 only where the CPU computes it natively (emulated bfloat16 is slower)."""
    device = os.environ.get(DEVICE_ENV, "").strip().lower()
    forced = os.environ.get(PRECISION_ENV, "").strip().lower()
    reason = ""
    if not device:
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    precision = "fp32"
    if device == "cpu":
        feature = cpu_bf16_feature()
        if feature:
            precision, reason = "bf16", feature
    if forced in ("fp32", "bf16"):
        precision, reason = forced, f"set by {PRECISION_ENV}"
    return Hardware(device, precision, reason)


# Tokens of a passage the embedder reads (None: the model's own limit, 256 for MiniLM).
# MiniLM was trained on 128-token inputs; our passages (800 characters with the heading
# path) run to ~250 tokens, and a transformer's time grows with every token. Measured on
# cuad-dev (tests/bench/cuad_eval.py --chunk 800/100/N; keyword search still reads every
# word): span recall within 8,000 characters 0.869 at 256, 0.867 at 192, 0.861 at 160 and
# at 128; ingest of 20 contracts (tests/bench/ingest_bench.py) 23.6 s at 256, 15.1 s at 128.
MAX_TOKENS: int | None = 192


class SentenceTransformerEmbedder:
    """Cheap to construct; the model loads on first use (or :meth:`warm_up`)."""

    def __init__(
        self,
        path: Path | None = None,
        batch_size: int = 32,
        device: str | None = None,
        precision: str | None = None,
        max_tokens: int | None = MAX_TOKENS,
    ):
        self.path = path or default_embedder_path()
        self.name = self.path.name if self.path.name != "model" else self.path.parent.name
        self.batch_size = batch_size
        self._device = device
        self._precision = precision
        self.max_tokens = max_tokens  # None: the model's own limit
        self._model: Any = None
        self._lock = threading.Lock()
        self.dimension = 0
        self.hardware: Hardware | None = None  # known once loaded
        self._queries: dict[str, np.ndarray] = {}

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            if not (self.path / "modules.json").exists() and not (self.path / "config.json").exists():
                raise FileNotFoundError(f"no sentence-transformers model in {self.path}")
            from rag.models.defaults import verify_model

            verify_model(self.path)  # a bundled model is checked against its build-time hash
            import torch
            from sentence_transformers import SentenceTransformer

            hw = choose_device(torch)
            if self._device or self._precision:
                hw = Hardware(self._device or hw.device, self._precision or hw.precision, "chosen by the caller")
            if hw.device != "cpu" and hw.precision == "bf16":
                hw = Hardware(hw.device, "fp32", hw.reason)  # bf16 autocast is a CPU path here
            model = SentenceTransformer(str(self.path), device=hw.device, local_files_only=True)
            if self.max_tokens:
                model.max_seq_length = min(self.max_tokens, model.max_seq_length or self.max_tokens)
            dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self.dimension = int(dim() or 0)
            self._torch = torch
            self.hardware = hw
            self._model = model

    @property
    def device(self) -> str:
        self.warm_up()
        return str(self._model.device)

    def _autocast(self) -> AbstractContextManager[Any]:
        # Autocast keeps layer norms, softmax and pooling in fp32: only the matrix products
        # run in bfloat16, which is why the vectors stay within 1e-4 of fp32 (model.to(bf16)
        # measured a min cosine of 0.998, no faster).
        if self.hardware is not None and self.hardware.precision == "bf16":
            return self._torch.autocast("cpu", dtype=self._torch.bfloat16)
        return nullcontext()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._autocast():
            vecs = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vecs, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        # Asking embeds the question twice (relevance check, then search): remember a few.
        with self._lock:
            hit = self._queries.get(text)
        if hit is not None:
            return hit
        vec = self.embed([text])[0]
        with self._lock:
            self._queries[text] = vec
            while len(self._queries) > 64:
                self._queries.pop(next(iter(self._queries)))
        return vec
