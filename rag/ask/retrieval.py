"""Hybrid retrieval: keyword and vector candidates from a :class:`rag.protocols.Store` (BM25
over SQLite FTS5 and Chroma for one user's library; tsvector and pgvector for a team matter),
fused here by reciprocal rank, the same way for every store.

When the question names documents, however it names them ("Consider the Supply Agreement
between Acme and Widget; what is the governing law?", "what's the governing law in our
contract with Acme?"), they are found from their profiles (:mod:`rag.ask.scope`), and
their passages are ranked first, by how well they answer the question without the words
naming the document: those would otherwise pull up its cover page. Other documents'
passages follow, never excluded. When it names none, the question is over the whole
library: passages are spread over the documents that match well rather than all taken
from the one that matches best, and :func:`group_by_document` lists them per document.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.ask.clinical_terms import expand
from rag.ask.expansion import ExpansionTerm, QueryExpander, embedding_text, expand_question, keyword_text
from rag.ask.headings import HeadingExpander
from rag.ask.lexicon import Lexicon
from rag.ask.scope import DocumentScorer, split_query, without_words
from rag.ask.section_rank import section_bonus
from rag.protocols import Embedder, Store
from rag.types import Passage, StoredChunk


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
    mention_min: float = 0.4  # rarity among names of a name held anywhere in the question (query_scope)
    mention_ratio: float = 0.8  # ... and share of the strongest named document's strength
    spread: float = 0.85  # without a named document, each further passage of a document
    # counts this much less than the one before: several documents that match well all show
    common_share: float = 0.2  # keyword search leaves out words in more than this share of
    # passages (rag/store/chunks.py: _selective): measured on cuad-dev and at 50,000 passages
    # Expansion (rag/ask/expansion.py): terms the question does not say, searched as keyword
    # lists of their own, fused at each term's weight but never above these (the user's own
    # words count 1.0). 0.5 -> 0.8 took cuad-dev plain words from 0.761 to 0.824 (within 8,000).
    expand: bool = True
    expansion_weight: float = 0.8  # ceiling across the library (reciprocal rank fusion)
    doc_expansion_weight: float = 0.8  # ceiling inside a named document (linear fusion)
    expansion_vector: str = "replace"  # embed the question with its terms instead ("add": both; "none")
    heading_expansion: bool = False  # the words of the library's headings nearest the question


_SCOPED = 1.0  # added to the score of a named document's passages: they rank first


class HybridRetriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
        expanders: Sequence[QueryExpander] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        # The plain-words lexicon unless told otherwise; more expanders (clinical
        # abbreviations) join the same list and are fused the same way.
        if expanders is None:
            default: list[QueryExpander] = [Lexicon.load()] if self.config.expand else []
            if self.config.expand and self.config.heading_expansion:
                default.append(HeadingExpander(store, embedder))
            expanders = default
        self.expanders: tuple[QueryExpander, ...] = tuple(expanders)
        self.scorer = DocumentScorer(store)
        self._vectors: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def search(self, query: str, k: int = 8, documents: Sequence[int] | None = None) -> list[Passage]:
        """The ``k`` passages that best answer ``query``; with ``documents`` (ids), only
        theirs, on both the keyword and the vector side."""
        cfg = self.config
        query = query.strip()
        if not query:
            return []
        n = max(cfg.candidates, k)
        if documents is not None:
            return self.search_in(query, documents, k)
        named, clause = self.find_documents(query) if cfg.scope else ({}, query)
        asked = clause if named else query
        extra = expand_question(asked, self.expanders)
        # With a named document, one embedding of the clause part serves both searches:
        # other documents' passages then follow by what they say about that clause.
        # The question as it would read with its terms: searched below the question itself
        # ("add"), or instead of it ("replace": the plain question is then not embedded).
        evec = self.embedder.embed_query(embedding_text(asked, extra)) if extra and cfg.expansion_vector != "none" else None
        if evec is not None and cfg.expansion_vector == "replace":
            qvec, evec = evec, None
        else:
            qvec = self.embedder.embed_query(asked)
        # Clinical abbreviations are spelled out in the user's own keyword search (EBL ->
        # estimated blood loss): the same words, written two ways.
        keyword = self.store.keyword_search(expand(query), n, common_share=cfg.common_share)
        vector = self.store.vector_search(qvec, n)
        lists = [(cfg.keyword_weight, keyword), (cfg.vector_weight, vector)]
        lists += self._expansion_lists(asked, extra, evec, n)
        fused = _rrf(lists, cfg.rrf_k)
        if named:
            fused.update(self._scoped(clause, named, qvec, n, extra, evec))
        chunks = self.store.chunks_by_id(fused)  # drops ids of documents not ready
        bonus = section_bonus(clause if named else query, {c: chunks[c].heading for c in chunks},
                              {c: chunks[c].doc_id for c in chunks}, named)
        for c, add in bonus.items():
            fused[c] += add
        ranked = sorted(chunks, key=lambda c: fused[c], reverse=True)
        patient = self.scorer.same_patient(named) if named else None
        if patient is not None:
            ranked = [c for c in ranked if chunks[c].doc_id in patient]
        if not named and cfg.spread < 1.0:
            ranked = _spread(ranked, fused, {c: chunks[c].doc_id for c in ranked}, cfg.spread)
        return [_passage(chunks[c], fused[c]) for c in ranked[:k]]

    def search_in(self, query: str, documents: Sequence[int], k: int = 8,
                  qvec: np.ndarray | None = None) -> list[Passage]:
        """Passages of ``documents`` only, ranked the way a named document's passages are
        (:meth:`_scoped`): the user chose them, so nothing else is searched. ``qvec`` is
        ``query``'s embedding when the caller has it already (a review column: one
        embedding for every document)."""
        cfg = self.config
        if not documents or not query.strip():
            return []
        clause = query
        if qvec is None and cfg.scope:
            # Words naming one of the chosen documents say which, not what: ranked without them.
            named, rest = self.find_documents(query)
            clause = rest if named and set(named) & set(documents) and rest.strip() else query
        vec = self.embedder.embed_query(clause) if qvec is None else qvec
        scores = self._scoped(clause, {int(d): 1.0 for d in documents}, vec, max(cfg.candidates, k))
        best = sorted(scores, key=lambda c: scores[c], reverse=True)[: k * 2]
        chunks = self.store.chunks_by_id(best)  # drops ids of documents not ready
        ranked = [c for c in best if c in chunks][:k]
        return [_passage(chunks[c], scores[c] - _SCOPED) for c in ranked]

    def similarities(self, documents: Sequence[int], qvec: np.ndarray) -> dict[int, float]:
        """Cosine of ``qvec`` to each passage of ``documents`` (chunk id -> cosine), from the
        vectors stored at ingest: nothing is embedded."""
        ids, vecs, _docs = self._doc_vectors([int(d) for d in documents])
        if not len(ids):
            return {}
        sims = vecs @ np.asarray(qvec, dtype=np.float32)
        return dict(zip(ids.tolist(), sims.tolist()))

    def named_documents(self, query: str) -> dict[int, float]:
        """The documents a question names: doc id -> how well (0-1); empty if none."""
        return self.find_documents(query)[0]

    def prepare(self) -> None:
        """Read now what a first search would read (the document finder's profiles, the
        headings' vectors): a server warms a matter this way before its user asks."""
        self.scorer.refresh()
        for expander in self.expanders:
            warm = getattr(expander, "prepare", None)
            if warm is not None:
                warm()

    def find_documents(self, query: str) -> tuple[dict[int, float], str]:
        """The documents a question names (doc id -> how well, 0-1; empty if none), and
        what it asks of them: the question without the words that name them."""
        cfg = self.config
        sq = split_query(query)
        if sq.scope:
            named = _best(self.scorer.scores(sq.scope), cfg.scope_min, cfg.scope_ratio, cfg.scope_docs)
            if named:
                return named, sq.clause
        found = self.scorer.mentions(query, cfg.scope_docs)
        strength = {d: m.strength for d, m in found.items() if m.among_names >= cfg.mention_min or m.whole}
        top = max(strength.values(), default=0.0)
        named = {d: s for d, s in strength.items() if s >= cfg.mention_ratio * top}
        if not named or len(named) > cfg.scope_docs:
            # Nothing named, or a name many documents share ("the license agreement"): which
            # of them is meant is a guess, so the question goes to the whole library.
            return {}, query
        words = frozenset().union(*(found[d].held for d in named))
        return {d: s / top for d, s in named.items()}, without_words(query, words) or query

    def _expansion_lists(self, asked: str, extra: list[ExpansionTerm], evec: np.ndarray | None, n: int
                         ) -> list[tuple[float, list[tuple[int, float]]]]:
        """The expansion terms' own ranked lists across the library, weighted below the
        user's words: a passage they alone find joins the ranking, after what was asked."""
        cfg = self.config
        out = [(min(w, cfg.expansion_weight), self.store.keyword_search(text, n, common_share=cfg.common_share))
               for w, text in _by_weight(extra, asked)]
        if out and evec is not None:
            out.append((cfg.expansion_weight, self.store.vector_search(evec, n)))
        return out

    def _scoped(self, clause: str, named: dict[int, float], qvec: np.ndarray, n: int,
                extra: Sequence[ExpansionTerm] = (), evec: np.ndarray | None = None) -> dict[int, float]:
        """Scores of the named documents' passages, ranked by what the question asks of
        them (``clause``; ``qvec`` is its embedding; ``extra``, its expansion terms and
        ``evec`` the embedding of the clause with them)."""
        cfg = self.config
        keyword = self.store.keyword_search(expand(clause), n, doc_ids=list(named), common_share=cfg.common_share)
        ids, vecs, docs = self._doc_vectors(list(named))
        sims = vecs @ np.asarray(qvec, dtype=np.float32) if len(ids) else np.zeros(0)
        order = np.argsort(-sims)[:n]
        vector = [(int(ids[i]), float(sims[i])) for i in order]
        pair = [(cfg.doc_keyword_weight, keyword), (cfg.doc_vector_weight, vector)]
        for w, text in _by_weight(extra, clause):
            pair.append((min(w, cfg.doc_expansion_weight), self.store.keyword_search(
                text, n, doc_ids=list(named), common_share=cfg.common_share)))
        if evec is not None and len(ids):
            esims = vecs @ np.asarray(evec, dtype=np.float32)
            pair.append((cfg.doc_expansion_weight, [(int(ids[i]), float(esims[i])) for i in np.argsort(-esims)[:n]]))
        inner = _linear(pair) if cfg.doc_fusion == "linear" else _rrf(pair, cfg.doc_rrf_k)
        doc_of = dict(zip(ids.tolist(), docs.tolist()))
        return {c: _SCOPED * named[doc_of[c]] + s for c, s in inner.items() if c in doc_of}

    def _doc_vectors(self, doc_ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(chunk ids, vectors, doc ids) of documents, from the store (a few cached)."""
        parts = []
        for d in doc_ids:
            got = self._vectors.get(d)
            if got is not None and sorted(self.store.chunk_ids(d)) != got[0].tolist():
                got = None  # the document was replaced (SQLite may reuse its ids)
            if got is None:
                cids: list[int] = []
                mats: list[np.ndarray] = []
                for ids, _docs, vecs in self.store.embeddings(d):
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


def group_by_document(passages: Sequence[Passage]) -> list[tuple[str, list[Passage]]]:
    """Passages per document: (file name, its passages in rank order), documents in the
    order of their best passage. For answers that list which documents say what."""
    groups: dict[str, list[Passage]] = {}
    for p in passages:
        groups.setdefault(p.file, []).append(p)
    return list(groups.items())


def _by_weight(terms: Sequence[ExpansionTerm], asked: str) -> list[tuple[float, str]]:
    """(weight, keyword query) per weight the terms carry: each is searched as a list of
    its own, fused at that weight, so a surer term (an abbreviation's expansion) counts
    more than a looser one (a lexicon's guess), and neither more than the user's words."""
    groups: dict[float, list[ExpansionTerm]] = {}
    for t in terms:
        groups.setdefault(t.weight, []).append(t)
    out = [(w, keyword_text(ts, asked)) for w, ts in sorted(groups.items(), reverse=True)]
    return [(w, text) for w, text in out if text]


def _best(scores: dict[int, float], floor: float, ratio: float, most: int) -> dict[int, float]:
    """The best-scoring documents: at least ``floor`` and ``ratio`` of the best, ``most`` of them."""
    if not scores:
        return {}
    top = max(scores.values())
    ranked = sorted(scores.items(), key=lambda x: x[1], reverse=True)[:most]
    return {d: s for d, s in ranked if s >= floor and s >= ratio * top}


def _spread(ranked: list[int], score: dict[int, float], doc_of: dict[int, int], decay: float) -> list[int]:
    """Re-rank so each further passage of a document counts ``decay`` times less: one
    document that matches best no longer fills the list when others match nearly as well,
    while one far ahead of the rest keeps its lead."""
    seen: dict[int, int] = {}
    adjusted: dict[int, float] = {}
    for c in ranked:  # best first, so a document's n-th passage is its n-th best
        d = doc_of[c]
        adjusted[c] = score[c] * decay ** seen.get(d, 0)
        seen[d] = seen.get(d, 0) + 1
    return sorted(ranked, key=lambda c: adjusted[c], reverse=True)


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
        where=c.location,
    )
