"""The manifest's own vectors, searched in memory: the vector index of a library that
cannot be written here (Chroma writes to its folder even to read), or whose index is
damaged while another process holds the write lock and could not rebuild it.

A matrix product over every stored vector: ~10 ms at 50,000 passages, and exactly the
ranking Chroma's cosine space gives (1 - cosine distance)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rag.store.manifest import Manifest


class MemoryIndex:
    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._ids = np.zeros(0, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.int64)
        self._vecs = np.zeros((0, 0), dtype=np.float32)
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ids, docs, vecs in self.manifest.embeddings():
            self.add(ids, vecs, docs)

    def add(self, ids: Sequence[int], vectors: np.ndarray, doc_ids: Sequence[int]) -> None:
        if not len(ids):
            return
        vecs = np.asarray(vectors, dtype=np.float32)
        vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.int64))  # an upsert, as Chroma's
        self._ids = np.concatenate([self._ids[keep], np.asarray(ids, dtype=np.int64)])
        self._docs = np.concatenate([self._docs[keep], np.asarray(doc_ids, dtype=np.int64)])
        self._vecs = vecs if not self._vecs.size else np.concatenate([self._vecs[keep], vecs])

    def delete_document(self, doc_id: int) -> None:
        self._load()
        keep = self._docs != int(doc_id)
        self._ids, self._docs, self._vecs = self._ids[keep], self._docs[keep], self._vecs[keep]

    def delete_ids(self, ids: Sequence[int]) -> None:
        self._load()
        keep = ~np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        self._ids, self._docs, self._vecs = self._ids[keep], self._docs[keep], self._vecs[keep]

    def query(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        self._load()
        if not len(self._ids) or k <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32).ravel()
        sims = self._vecs @ (q / max(float(np.linalg.norm(q)), 1e-12))
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self._ids[i]), float(sims[i])) for i in top]

    def ids(self) -> set[int]:
        self._load()
        return {int(i) for i in self._ids}

    def count(self) -> int:
        self._load()
        return len(self._ids)

    def reset(self) -> None:
        self._loaded = True
        self._ids = np.zeros(0, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.int64)
        self._vecs = np.zeros((0, 0), dtype=np.float32)

    def close(self) -> None:
        """Nothing is held but memory; the next use reads the manifest again (another
        process may have written since)."""
        self.reset()
        self._loaded = False
