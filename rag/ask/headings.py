"""The library's own clause headings as a vocabulary bridge.

A question in plain words ("can they hand it over to another company?") is often nearer,
by embedding, to the short heading of the clause that answers it ("Assignment") than to
the clause's long text, which is about many things at once. :class:`HeadingExpander`
embeds each distinct heading of the library once (kept until the library changes, only new
headings embedded then), finds the few nearest the question, and proposes their words as
expansion terms (:mod:`rag.ask.expansion`): keyword search then finds every clause written
in them, in every document, though the question never used them.
"""

from __future__ import annotations

import re
import threading

import numpy as np

from rag.ask.expansion import ExpansionTerm
from rag.protocols import Embedder, Store
from rag.text import STOPWORDS, keywords

_NUMBERING = re.compile(r"^(?:(?:section|article|clause|schedule|exhibit|annex)\s+)?[\divxlc.()\-]*\s*", re.I)
_LEAF_MAX = 60  # longer "headings" are sentences the chunker took for one


def leaf(heading: str) -> str:
    """The last heading of a path without its numbering: "12 Term › 12.3 Termination for
    Convenience" -> "termination for convenience"."""
    last = re.split(r"\s*[›>]\s*", heading)[-1]
    return _NUMBERING.sub("", last).strip(" .:-").lower()


class HeadingExpander:
    """Words of the library's headings nearest a question; a QueryExpander."""

    def __init__(self, store: Store, embedder: Embedder, top: int = 3,
                 min_similarity: float = 0.45, weight: float = 0.5) -> None:
        self.store = store
        self.embedder = embedder
        self.top = top
        self.min_similarity = min_similarity
        self.weight = weight
        self._lock = threading.Lock()
        self._state: str | None = None
        self._texts: list[str] = []
        self._vectors = np.zeros((0, 0), np.float32)
        self._known: dict[str, np.ndarray] = {}

    def expand(self, question: str) -> list[ExpansionTerm]:
        texts, vectors = self._headings()
        if not texts:
            return []
        sims = vectors @ np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        out: list[ExpansionTerm] = []
        for i in np.argsort(-sims)[: self.top]:
            if sims[i] < self.min_similarity:
                break
            out.append(ExpansionTerm(texts[int(i)], self.weight, f"heading:{sims[i]:.2f}"))
        return out

    def prepare(self) -> None:
        self._headings()

    def _headings(self) -> tuple[list[str], np.ndarray]:
        """Distinct heading leaves of the library and their vectors, refreshed when it changes."""
        state = self.store.change_marker()
        with self._lock:
            if state == self._state:
                return self._texts, self._vectors
            texts = sorted(self._distinct())
            new = [t for t in texts if t not in self._known]
            if new:
                for t, v in zip(new, self.embedder.embed(new)):
                    self._known[t] = v
            self._texts = texts
            self._vectors = (np.stack([self._known[t] for t in texts]) if texts
                             else np.zeros((0, 0), np.float32))
            self._state = state
            return self._texts, self._vectors

    def _distinct(self) -> set[str]:
        out = set()
        for heading in self.store.distinct_headings():
            text = leaf(heading)
            words = keywords(text)
            if 3 <= len(text) <= _LEAF_MAX and words and not all(w in STOPWORDS for w in words):
                out.add(text)
        return out
