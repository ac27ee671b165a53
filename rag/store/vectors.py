"""Chroma as a derived vector index: chunk ids, vectors and the document id, nothing else.

We always hand Chroma our own embeddings (its default embedding function downloads an
ONNX model) and never store text in it (the manifest is the only copy).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

COLLECTION = "chunks"


class ChromaIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._client: Any = None
        self._col: Any = None
        # Counting costs ~50 ms at 50,000 vectors, and every query needs it: counted once
        # after each change made here (another process's changes reopen the index).
        self._count: int | None = None

    def _collection(self) -> Any:
        if self._col is None:
            import chromadb
            from chromadb.config import Settings

            self._client = chromadb.PersistentClient(
                path=str(self.path),
                settings=Settings(anonymized_telemetry=False, allow_reset=True),
            )
            self._col = self._client.get_or_create_collection(
                COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        return self._col

    def add(self, ids: Sequence[int], vectors: np.ndarray, doc_ids: Sequence[int]) -> None:
        col = self._collection()
        self._count = None
        vecs = np.asarray(vectors, dtype=np.float32)
        step = 2000  # under Chroma's max batch size
        for i in range(0, len(ids), step):
            col.upsert(
                ids=[str(x) for x in ids[i : i + step]],
                embeddings=vecs[i : i + step],
                metadatas=[{"doc": int(d)} for d in doc_ids[i : i + step]],
            )

    def delete_document(self, doc_id: int) -> None:
        self._count = None
        self._collection().delete(where={"doc": int(doc_id)})

    def delete_ids(self, ids: Sequence[int]) -> None:
        if ids:
            self._count = None
            self._collection().delete(ids=[str(x) for x in ids])

    def query(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        col = self._collection()
        if self._count is None:
            self._count = int(col.count())
        n = self._count
        if n == 0:
            return []
        res = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, n),
            include=["distances"],
        )
        ids = res["ids"][0]
        dists = res["distances"][0]
        return [(int(i), 1.0 - float(d)) for i, d in zip(ids, dists)]

    def ids(self) -> set[int]:
        got = self._collection().get(include=[])
        return {int(i) for i in got["ids"]}

    def count(self) -> int:
        self._count = int(self._collection().count())
        return self._count

    def reset(self) -> None:
        """Drop and recreate the collection (used when rebuilding from the manifest)."""
        self._collection()
        self._count = None
        self._client.delete_collection(COLLECTION)
        self._col = self._client.get_or_create_collection(
            COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def close(self) -> None:
        """Let go of Chroma's process-wide handle on this folder: a later index at the same
        path (after the folder was deleted and rebuilt) must not inherit a dead one."""
        if self._client is not None:
            self._client.close()
        self._client = self._col = None
        self._count = None
