"""Hybrid retrieval: BM25 (SQLite FTS5) and vectors (Chroma), fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from rag.manifest import Manifest, StoredChunk
from rag.protocols import Embedder, VectorIndex
from rag.types import Passage


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 60  # from each retriever, before fusion
    rrf_k: int = 60
    keyword_weight: float = 1.0
    vector_weight: float = 1.0


class HybridRetriever:
    def __init__(
        self,
        manifest: Manifest,
        index: VectorIndex,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.manifest = manifest
        self.index = index
        self.embedder = embedder
        self.config = config or RetrievalConfig()

    def search(self, query: str, k: int = 8) -> list[Passage]:
        cfg = self.config
        query = query.strip()
        if not query:
            return []
        n = max(cfg.candidates, k)
        keyword = self.manifest.keyword_search(query, n)
        vector = self.index.query(self.embedder.embed_query(query), n)
        fused: dict[int, float] = {}
        for weight, ranked in ((cfg.keyword_weight, keyword), (cfg.vector_weight, vector)):
            for rank, (cid, _s) in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + weight / (cfg.rrf_k + rank + 1)
        chunks = self.manifest.chunks_by_id(fused)  # drops ids of documents not ready
        ranked_ids = sorted(chunks, key=lambda c: fused[c], reverse=True)[:k]
        return [_passage(chunks[c], fused[c]) for c in ranked_ids]


def _passage(c: StoredChunk, score: float) -> Passage:
    return Passage(
        file=c.name,
        page=c.page,
        start=c.start,
        end=c.end,
        text=c.text,
        score=score,
        doc_id=c.doc_id,
        chunk_id=c.id,
        heading=c.heading,
        path=c.path,
    )
