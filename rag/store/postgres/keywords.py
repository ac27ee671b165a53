"""Keyword candidates from PostgreSQL's full-text search, for the same questions as the
SQLite store's FTS5 BM25 (rag/store/chunks.py).

FTS5 ranks an OR of the question's words by BM25: a rare word counts for more than a common
one. ``ts_rank_cd`` has no notion of rarity, so a passage saying "agreement" ten times would
beat one that names the rare word asked about. We rank each word on its own with
``ts_rank_cd`` (headings count twice the text, as bm25(chunks_fts, 2.0, 1.0)) and add them
up weighted by BM25's inverse document frequency, counted in the matter; the words held by
too many passages are left out first, as in the SQLite store (``common_share``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.text import keywords


@dataclass(frozen=True)
class KeywordRanking:
    idf: bool = True  # weigh each word by its rarity (else one ts_rank_cd of the whole OR query)
    # ts_rank_cd's normalization: 1 divides by 1 + log(length) (long passages do not win by
    # length alone), 32 scales to rank / (rank + 1) (repeating a word saturates, as in BM25).
    normalization: int = 1 | 32
    weights: str = "{0.5, 0.5, 1.0, 1.0}"  # labels D, C, B, A: text (D) half a heading (A)


@dataclass
class WordCache:
    """What keyword search learnt of a matter's words, kept until the matter changes: for
    each word, each passage's ``ts_rank_cd`` for it (computed by PostgreSQL, once), hence
    how many passages hold it. A search whose words are all known costs the database
    nothing more; its scores are those of the one SQL query (``in_sql``), to the bit."""

    counts: dict[str, int] = field(default_factory=dict)  # -1: a stop word; "": all passages
    # word -> (passage ids, their document ids, ts_rank_cd as float8), ids ascending
    ranks: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    held: int = 0  # passages in ``ranks``, all words together
    limit: int = 400_000  # past this many (about 10 MB), ``ranks`` starts again

    def learn(self, conn: Any, matter_id: int, words: Sequence[str]) -> dict[str, int]:
        """Every word's count; the words not known yet are counted in one pass over the
        matter's passages."""
        missing = [w for w in dict.fromkeys(words) if w not in self.counts and w]
        if missing or "" not in self.counts:
            # Each word's query parsed once (the CTE), each counted by a FILTER of its own.
            args = {f"w{i}": w for i, w in enumerate(missing)}
            parsed = ", ".join(["1 AS one", *(f"to_tsquery('english', :w{i}) AS t{i}" for i in range(len(missing)))])
            cols = "".join(f", max(numnode(q.t{i})), count(*) FILTER (WHERE p.tsv @@ q.t{i})"
                           for i in range(len(missing)))
            row = conn.run(f"WITH q AS MATERIALIZED (SELECT {parsed}) SELECT count(*){cols} FROM q, passages p"
                           " WHERE p.matter_id=:m", m=matter_id, **args)[0]
            self.counts[""] = int(row[0])
            for i, w in enumerate(missing):
                nodes, n = row[1 + 2 * i], int(row[2 + 2 * i])
                # -1: a word the English configuration drops (a stop word) can match nothing.
                self.counts[w] = -1 if nodes == 0 else n
        return {w: self.counts[w] for w in ("", *words)}

    def ranked(self, conn: Any, matter_id: int, words: Sequence[str], ranking: KeywordRanking
               ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each word's (passage ids, document ids, ts_rank_cd), those not known yet from one
        pass over the passages holding any of them (after :meth:`learn`)."""
        missing = [w for w in dict.fromkeys(words) if w not in self.ranks and self.counts.get(w, 0) > 0]
        if missing:
            args: dict[str, Any] = {f"w{i}": w for i, w in enumerate(missing)}
            parsed = ", ".join(f"to_tsquery('english', :w{i}) AS t{i}" for i in range(len(missing)))
            # Per word, its passages as three lists of numbers in text, not a row each: the
            # driver (pure Python) reads a row in about 20 µs, and a word may be held by
            # hundreds of passages.
            cols = ", ".join(
                f"string_agg(CAST(p.id AS text), ',' ORDER BY p.id) FILTER (WHERE p.tsv @@ q.t{i}),"
                f" string_agg(CAST(p.doc_id AS text), ',' ORDER BY p.id) FILTER (WHERE p.tsv @@ q.t{i}),"
                f" string_agg(CAST(ts_rank_cd(q.wts, p.tsv, q.t{i}, :norm) AS text), ',' ORDER BY p.id)"
                f" FILTER (WHERE p.tsv @@ q.t{i})" for i in range(len(missing)))
            anyq = " || ".join(f"q.t{i}" for i in range(len(missing)))
            row = conn.run(f"WITH q AS MATERIALIZED (SELECT {parsed}, CAST(:wts AS real[]) AS wts) SELECT {cols}"
                           f" FROM q, passages p WHERE p.matter_id=:m AND p.tsv @@ ({anyq})",
                           m=matter_id, wts=ranking.weights, norm=ranking.normalization, **args)
            got = row[0]
            fresh = [(_numbers(got[3 * i], np.int64), _numbers(got[3 * i + 1], np.int64),
                      # float4 as PostgreSQL multiplies it: its text reads back exactly as float32
                      _numbers(got[3 * i + 2], np.float32).astype(np.float64)) for i in range(len(missing))]
            if self.held + sum(len(f[0]) for f in fresh) > self.limit:
                self.ranks, self.held = {}, 0
            for w, f in zip(missing, fresh, strict=True):
                self.ranks[w] = f
                self.held += len(f[0])
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))
        return [self.ranks.get(w, empty) for w in words]


def _numbers(text: str | None, dtype: type) -> np.ndarray:
    return np.array(text.split(","), dtype=dtype) if text else np.zeros(0, dtype)


def selective(words: list[str], counts: dict[str, int], share: float) -> list[str]:
    """The words less those held by more than ``share`` of the passages, keeping at least
    the two rarest (rag/store/chunks.py ``_selective``, same rule)."""
    if share >= 1.0 or len(words) <= 2:
        return words
    limit = share * counts[""]
    kept = [w for w in words if counts[w] <= limit]
    if len(kept) < 2:
        rarest = sorted(words, key=lambda x: counts[x])[:2]
        kept = [w for w in words if w in rarest]
    return kept


def keyword_candidates(conn: Any, matter_id: int, query: str, k: int, doc_ids: Sequence[int] | None,
                       common_share: float, cache: WordCache, ranking: KeywordRanking,
                       in_sql: bool = False) -> list[tuple[int, float]]:
    """(passage id, score) best first; runs inside the store's transaction. ``in_sql``
    ranks in one SQL query instead of from ``cache`` (the same scores; for the tests)."""
    # Words as the SQLite store takes them: letters and digits only, so they are safe
    # inside a tsquery whatever the user typed.
    words = list(dict.fromkeys(keywords(query)))
    if not words:
        return []
    counts = cache.learn(conn, matter_id, words)
    words = [w for w in words if counts[w] >= 0]
    words = selective(words, counts, common_share)
    if not words:
        return []
    where = "p.matter_id=:m"
    args: dict[str, Any] = {"m": matter_id, "k": int(k), "wts": ranking.weights, "norm": ranking.normalization}
    if doc_ids is not None:
        where += " AND p.doc_id = ANY(CAST(:docs AS bigint[]))"
        args["docs"] = [int(d) for d in doc_ids]
    if ranking.idf:
        n = counts[""]
        # BM25's idf, never below a small floor: a word in most passages still counts a little.
        idf = [max(math.log(1 + (n - counts[w] + 0.5) / (counts[w] + 0.5)), 1e-3) for w in words]
        if not in_sql:
            return _ranked_in_memory(cache.ranked(conn, matter_id, words, ranking), idf, k, doc_ids)
        args["orq"] = " | ".join(words)
        # Under row-level security the planner may not run a non-LEAKPROOF operator such as
        # @@ inside the GIN index before the policy's filter, so every passage of the matter
        # is tested with the OR of the words, and each word ranked only where it is found.
        # The queries are parsed once (the CTE), not per passage, and each word's score is
        # a column of its own: 2.6 ms against 5-7 ms for a subquery over a table of the
        # words, the same ranking (2,000 passages, two words held by 80% of them).
        for i, w in enumerate(words):
            args[f"w{i}"], args[f"i{i}"] = w, idf[i]
        parsed = ", ".join(f"to_tsquery('english', :w{i}) AS t{i}" for i in range(len(words)))
        score = " + ".join(f"CASE WHEN p.tsv @@ q.t{i} THEN CAST(:i{i} AS float8) * ts_rank_cd(q.wts, p.tsv, q.t{i},"
                           f" :norm) ELSE 0 END" for i in range(len(words)))
        rows = conn.run(
            f"WITH q AS MATERIALIZED (SELECT {parsed}, to_tsquery('english', :orq) AS tor,"
            " CAST(:wts AS real[]) AS wts)"
            f" SELECT p.id, {score} AS s FROM q, passages p WHERE {where} AND p.tsv @@ q.tor"
            " ORDER BY s DESC, p.id LIMIT :k", **args)
    else:
        args["q"] = " | ".join(words)
        rows = conn.run(
            "SELECT p.id, ts_rank_cd(CAST(:wts AS real[]), p.tsv, to_tsquery('english', :q), :norm) AS s"
            f" FROM passages p WHERE {where} AND p.tsv @@ to_tsquery('english', :q)"
            " ORDER BY s DESC, p.id LIMIT :k", **args)
    return [(int(r[0]), float(r[1])) for r in rows]


def _ranked_in_memory(ranks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], idf: list[float], k: int,
                      doc_ids: Sequence[int] | None) -> list[tuple[int, float]]:
    """The SQL query's ranking from each word's cached ranks: the passages holding any of
    the words, scored by the same float8 sum in the same order (a word a passage lacks adds
    an exact 0), best first, ties by id."""
    ids = np.unique(np.concatenate([r[0] for r in ranks])) if ranks else np.zeros(0, np.int64)
    score = np.zeros(len(ids), dtype=np.float64)
    keep = np.zeros(len(ids), dtype=bool) if doc_ids is not None else None
    wanted = np.asarray([int(d) for d in doc_ids or ()], dtype=np.int64)
    for (pids, docs, rank), weight in zip(ranks, idf, strict=True):
        at = np.searchsorted(ids, pids)
        score[at] = score[at] + weight * rank
        if keep is not None:
            keep[at[np.isin(docs, wanted)]] = True
    if keep is not None:
        ids, score = ids[keep], score[keep]
    order = np.lexsort((ids, -score))[:k]
    return [(int(ids[i]), float(score[i])) for i in order]
