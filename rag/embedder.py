"""sentence-transformers embeddings, loaded from a local folder only."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.models import default_embedder_path


class SentenceTransformerEmbedder:
    """Cheap to construct; the model loads on first use (or :meth:`warm_up`)."""

    def __init__(self, path: Path | None = None, batch_size: int = 32, device: str | None = None):
        self.path = path or default_embedder_path()
        self.name = self.path.name if self.path.name != "model" else self.path.parent.name
        self.batch_size = batch_size
        self._device = device
        self._model: Any = None
        self._lock = threading.Lock()
        self.dimension = 0
        self._queries: dict[str, np.ndarray] = {}

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            if not (self.path / "modules.json").exists() and not (self.path / "config.json").exists():
                raise FileNotFoundError(f"no sentence-transformers model in {self.path}")
            from rag.models import verify_model

            verify_model(self.path)  # a bundled model is checked against its build-time hash
            import torch
            from sentence_transformers import SentenceTransformer

            device = self._device or ("cuda" if torch.cuda.is_available() else "cpu")
            model = SentenceTransformer(str(self.path), device=device, local_files_only=True)
            dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self.dimension = int(dim() or 0)
            self._model = model

    @property
    def device(self) -> str:
        self.warm_up()
        return str(self._model.device)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
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
