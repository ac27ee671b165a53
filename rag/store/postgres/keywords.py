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
from dataclasses import dataclass
from typing import Any

from rag.text import keywords


@dataclass(frozen=True)
class KeywordRanking:
    idf: bool = True  # weigh each word by its rarity (else one ts_rank_cd of the whole OR query)
    # ts_rank_cd's normalization: 1 divides by 1 + log(length) (long passages do not win by
    # length alone), 32 scales to rank / (rank + 1) (repeating a word saturates, as in BM25).
    normalization: int = 1 | 32
    weights: str = "{0.5, 0.5, 1.0, 1.0}"  # labels D, C, B, A: text (D) half a heading (A)


def word_counts(conn: Any, matter_id: int, words: Sequence[str], cache: dict[str, int]) -> dict[str, int]:
    """Passages of the matter holding each word (-1: a word the English configuration drops
    as a stop word, which can match nothing); "" is the number of passages. Cached by the
    caller until the matter changes."""
    missing = [w for w in ("", *words) if w not in cache]
    if missing:
        for w, n in conn.run(
            "SELECT w, CASE WHEN w = '' THEN (SELECT count(*) FROM passages p WHERE p.matter_id=:m)"
            " WHEN numnode(to_tsquery('english', w)) = 0 THEN -1"
            " ELSE (SELECT count(*) FROM passages p WHERE p.matter_id=:m AND p.tsv @@ to_tsquery('english', w))"
            " END FROM unnest(CAST(:ws AS text[])) AS w", m=matter_id, ws=missing):
            cache[str(w)] = int(n)
    return {w: cache[w] for w in ("", *words)}


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
                       common_share: float, cache: dict[str, int], ranking: KeywordRanking
                       ) -> list[tuple[int, float]]:
    """(passage id, score) best first; runs inside the store's transaction."""
    # Words as the SQLite store takes them: letters and digits only, so they are safe
    # inside a tsquery whatever the user typed.
    words = list(dict.fromkeys(keywords(query)))
    if not words:
        return []
    counts = word_counts(conn, matter_id, words, cache)
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
