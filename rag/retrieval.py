"""Hybrid retrieval: BM25 (SQLite FTS5) and vectors (Chroma), fused by reciprocal rank.

When the question names its document ("Consider the Supply Agreement between Acme and
Widget; what is the governing law?"), the documents it names are found from their name,
title and opening text (:mod:`rag.query_scope`), and their passages are ranked first, by
how well they answer the clause part of the question alone: the words naming the document
would otherwise pull up its cover page. Other documents' passages follow, never excluded.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.manifest import Manifest, StoredChunk
from rag.protocols import Embedder, VectorIndex
from rag.query_scope import DocumentScorer, split_query
from rag.types import Passage


@dataclass(frozen=True)
class RetrievalConfig:
    candidates: int = 60  # from each retriever, before fusion
    rrf_k: int = 60
    keyword_weight: float = 1.0
    vector_weight: float = 1.0
    scope: bool = True  # prefer the documents the question names
    scope_min: float = 0.5  # share of the scope's word weight a document must match
    scope_ratio: float = 0.8  # ... and share of the best document's score
    scope_docs: int = 3  # at most this many named documents
    doc_rrf_k: int = 60  # fusion inside a named document
    doc_keyword_weight: float = 1.0
    doc_vector_weight: float = 1.0
    doc_fusion: str = "linear"  # or "rrf"; linear (min-max scaled scores) measured better


_SCOPED = 1.0  # added to the score of a named document's passages: they rank first


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
        self.scorer = DocumentScorer(manifest)
        self._vectors: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def search(self, query: str, k: int = 8) -> list[Passage]:
        cfg = self.config
        query = query.strip()
        if not query:
            return []
        n = max(cfg.candidates, k)
        named = self.named_documents(query) if cfg.scope else {}
        # With a named document, one embedding of the clause part serves both searches:
        # other documents' passages then follow by what they say about that clause.
        qvec = self.embedder.embed_query(split_query(query).clause if named else query)
        keyword = self.manifest.keyword_search(query, n)
        vector = self.index.query(qvec, n)
        fused = _rrf([(cfg.keyword_weight, keyword), (cfg.vector_weight, vector)], cfg.rrf_k)
        if named:
            fused.update(self._scoped(query, named, qvec, n))
        chunks = self.manifest.chunks_by_id(fused)  # drops ids of documents not ready
        ranked = sorted(chunks, key=lambda c: fused[c], reverse=True)[:k]
        return [_passage(chunks[c], fused[c]) for c in ranked]

    def named_documents(self, query: str) -> dict[int, float]:
        """The documents a question names: doc id -> how well (0-1); empty if none."""
        cfg = self.config
        sq = split_query(query)
        if not sq.scope:
            return {}
        scores = self.scorer.scores(sq.scope)
        if not scores:
            return {}
        best = max(scores.values())
        ranked = sorted(scores.items(), key=lambda x: x[1], reverse=True)
        return {
            d: s for d, s in ranked[: cfg.scope_docs] if s >= cfg.scope_min and s >= cfg.scope_ratio * best
        }

    def _scoped(self, query: str, named: dict[int, float], qvec: np.ndarray, n: int) -> dict[int, float]:
        """Scores of the named documents' passages, ranked by the clause part of the query
        (``qvec`` is its embedding)."""
        cfg = self.config
        clause = split_query(query).clause
        keyword = self.manifest.keyword_search(clause, n, doc_ids=list(named))
        ids, vecs, docs = self._doc_vectors(list(named))
        sims = vecs @ np.asarray(qvec, dtype=np.float32) if len(ids) else np.zeros(0)
        order = np.argsort(-sims)[:n]
        vector = [(int(ids[i]), float(sims[i])) for i in order]
        pair = [(cfg.doc_keyword_weight, keyword), (cfg.doc_vector_weight, vector)]
        inner = _linear(pair) if cfg.doc_fusion == "linear" else _rrf(pair, cfg.doc_rrf_k)
        doc_of = dict(zip(ids.tolist(), docs.tolist()))
        return {c: _SCOPED * named[doc_of[c]] + s for c, s in inner.items() if c in doc_of}

    def _doc_vectors(self, doc_ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(chunk ids, vectors, doc ids) of documents, from the manifest (a few cached)."""
        parts = []
        for d in doc_ids:
            got = self._vectors.get(d)
            if got is not None and sorted(self.manifest.chunk_ids(d)) != got[0].tolist():
                got = None  # the document was replaced (SQLite may reuse its ids)
            if got is None:
                cids: list[int] = []
                mats: list[np.ndarray] = []
                for ids, _docs, vecs in self.manifest.embeddings(d):
                    cids.extend(ids)
                    mats.append(vecs)
                order = np.argsort(np.asarray(cids, dtype=np.int64))
                got = (np.asarray(cids, dtype=np.int64)[order],
                       np.concatenate(mats)[order] if mats else np.zeros((0, 0), np.float32))
                self._vectors[d] = got
                while len(self._vectors) > 32:
                    self._vectors.popitem(last=False)
            else:
                self._vectors.move_to_end(d)
            parts.append((got[0], got[1], np.full(len(got[0]), d, dtype=np.int64)))
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]))


def _rrf(lists: list[tuple[float, list[tuple[int, float]]]], k: int) -> dict[int, float]:
    fused: dict[int, float] = {}
    for weight, ranked in lists:
        for rank, (cid, _s) in enumerate(ranked):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank + 1)
    return fused


def _linear(lists: list[tuple[float, list[tuple[int, float]]]]) -> dict[int, float]:
    """Weighted sum of scores scaled to [0, 1] per list (the fusion's result stays under 1)."""
    fused: dict[int, float] = {}
    total = sum(w for w, _ in lists) or 1.0
    for weight, ranked in lists:
        if not ranked:
            continue
        hi = max(s for _, s in ranked)
        lo = min(s for _, s in ranked)
        span = (hi - lo) or 1.0
        for cid, s in ranked:
            fused[cid] = fused.get(cid, 0.0) + weight / total * (s - lo) / span * 0.99
    return fused


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
