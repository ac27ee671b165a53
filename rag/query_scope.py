"""Which document a question is about, from what the question says.

Questions over a collection often name their document before asking about a clause:
"Consider the Supply Agreement between Acme Corp. and Widget LLC; what is the governing
law?". :func:`split_query` separates the "which document" part from the "what clause"
part, and :class:`DocumentScorer` matches the first against each document's name, title
and opening text (where contracts state their title and parties), weighting words by how
rare they are across the library: "Acme" says far more than "Agreement".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.manifest import Manifest
from rag.text import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+")
_QUESTION = re.compile(r"[^;?.]*\?\s*$")
_SCOPE_LEAD = re.compile(r"^\s*(?:consider|regarding|concerning|in|for|about)\b[^A-Za-z0-9]*", re.I)

# Words that name a kind of document or company, not a particular one.
_GENERIC = frozenset(
    """inc corp corporation co company llc ltd limited lp plc gmbh ag sa nv bv holdings group
    dated dba hereinafter referred together subsidiaries affiliates affiliate""".split()
)


@dataclass(frozen=True)
class ScopedQuery:
    scope: str  # what says which document is meant ("" when nothing does)
    clause: str  # what the question asks about inside it


def split_query(query: str) -> ScopedQuery:
    """Split "<which document>; <question>?" into its two parts.

    The question is the trailing sentence ending with "?"; whatever precedes it, when it
    is long enough to name something, is the scope. Without such a shape, there is no scope.
    """
    q = query.strip()
    m = _QUESTION.search(q)
    if not m or m.start() == 0:
        return ScopedQuery("", q)
    scope = q[: m.start()].strip(" ;,.:")
    clause = m.group(0).strip()
    if len(_WORD.findall(scope.lower())) < 2 or len(_WORD.findall(clause.lower())) < 2:
        return ScopedQuery("", q)
    return ScopedQuery(_SCOPE_LEAD.sub("", scope), clause)


def _terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in STOPWORDS]


@dataclass(frozen=True)
class _Profile:
    doc_id: int
    head: frozenset[str]  # words of the file name and title
    body: frozenset[str]  # words of the opening text


class DocumentScorer:
    """Scores documents by how well their name, title and opening text match a scope."""

    def __init__(self, manifest: Manifest, opening_chars: int = 2000) -> None:
        self.manifest = manifest
        self.opening_chars = opening_chars
        self._key: tuple[int, ...] = ()
        self._profiles: list[_Profile] = []
        self._idf: dict[str, float] = {}

    def _refresh(self) -> None:
        titles = self.manifest.titles()
        key = tuple(sorted(titles))
        if key == self._key:
            return
        profiles = []
        df: dict[str, int] = {}
        for doc_id in key:
            name, title = titles[doc_id]
            stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            head = frozenset(_terms(f"{stem} {title}"))
            body = frozenset(_terms(self.manifest.first_text(doc_id, self.opening_chars)))
            profiles.append(_Profile(doc_id, head, body))
            for w in head | body:
                df[w] = df.get(w, 0) + 1
        n = len(profiles)
        self._idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        self._profiles = profiles
        self._key = key

    def scores(self, scope: str) -> dict[int, float]:
        """doc id -> score in [0, 1]: the share of the scope's weight the document matches.

        Only documents matching something are returned.
        """
        self._refresh()
        words = [w for w in dict.fromkeys(_terms(scope)) if w not in _GENERIC]
        weights = {w: self._idf.get(w, 0.0) for w in words}
        total = sum(weights.values())
        if total <= 0:
            return {}
        out: dict[int, float] = {}
        for p in self._profiles:
            # A word in the name or title counts fully; in the opening text, nearly so.
            s = sum(wt * (1.0 if w in p.head else 0.8 if w in p.body else 0.0) for w, wt in weights.items())
            if s > 0:
                out[p.doc_id] = s / total
        return out
