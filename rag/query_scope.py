"""Which documents a question is about, from what the question says.

People name a document in many ways: "Consider the Supply Agreement between Acme Corp. and
Widget LLC; what is the governing law?", "what's the term of our contract with Acme?",
"is there a cap on liability in the 2019 supply agreement?", or not at all. Everything is
matched against each document's profile (file name, title, parties and their short names,
years: :mod:`rag.doc_profile`) and opening text, weighting words by how rare they are
across the library: "Acme" says far more than "Agreement".

When the question has the shape "<which document>; <question>?", :func:`split_query`
separates the two and :meth:`DocumentScorer.scores` scores the first part alone. Otherwise
:meth:`DocumentScorer.mentions` looks for a profile's names anywhere in the question, word
order and punctuation aside: a name counts when the question holds most of its weight.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.doc_profile import DocProfile
from rag.manifest import Manifest
from rag.text import WORD, keywords

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
    if len(WORD.findall(scope.lower())) < 2 or len(WORD.findall(clause.lower())) < 2:
        return ScopedQuery("", q)
    return ScopedQuery(_SCOPE_LEAD.sub("", scope), clause)


def _name_terms(text: str, file_name: bool = False) -> frozenset[str]:
    """Words that can name a document: no stop words, no company suffixes. A file name's
    CamelCase words count both whole and split ("PrudentialBancorp_2017" -> prudentialbancorp,
    prudential, bancorp); a party's stay whole ("OntoChem" is one word)."""
    if file_name:
        text = text.replace("_", " ") + " " + _CAMEL.sub(r"\1 \2", text).replace("_", " ")
    return frozenset(w for w in keywords(text) if w not in _GENERIC)


_CAMEL = re.compile(r"([a-z])([A-Z])")


@dataclass(frozen=True)
class _Profile:
    doc_id: int
    head: frozenset[str]  # words of the file name, title, parties, short names and years
    body: frozenset[str]  # words of the opening text
    names: tuple[frozenset[str], ...]  # each name on its own: the title, each party, ...


@dataclass(frozen=True)
class Mention:
    """A document a question names: how strongly, and by which of the question's words."""

    strength: float  # matched word weight, relative to that of a word only it holds
    words: frozenset[str]


class DocumentScorer:
    """Scores documents by how well their profile and opening text match a question."""

    def __init__(self, manifest: Manifest, opening_chars: int = 2000, name_share: float = 0.5) -> None:
        self.manifest = manifest
        self.opening_chars = opening_chars
        self.name_share = name_share  # share of a name's weight a question must hold to name it
        self._key: tuple[tuple[int, str], ...] = ()
        self._profiles: list[_Profile] = []
        self._idf: dict[str, float] = {}
        self._idf_max = 1.0
        self._by_word: dict[str, list[_Profile]] = {}
        self._weights: dict[str, float] = {}
        self._n = 0

    def _refresh(self) -> None:
        profiles_of = self.manifest.profiles()
        key = tuple(sorted((d, n) for d, (n, _p) in profiles_of.items()))
        if key == self._key:
            return
        profiles = []
        df: dict[str, int] = {}
        for doc_id, name in key:
            prof: DocProfile = profiles_of[doc_id][1]
            stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            names = tuple(n for n in (_name_terms(stem, file_name=True),
                                      *map(_name_terms, (prof.title, *prof.parties, *prof.aliases, *prof.years)))
                          if n)
            head = frozenset().union(*names) if names else frozenset()
            body = frozenset(keywords(self.manifest.first_text(doc_id, self.opening_chars)))
            profiles.append(_Profile(doc_id, head, body, names))
            for w in head | body:
                df[w] = df.get(w, 0) + 1
        n = len(profiles)
        self._idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        self._idf_max = math.log(1 + (n - 0.5) / 1.5) if n else 1.0
        by_word: dict[str, list[_Profile]] = {}
        for p in profiles:
            for w in p.head:
                by_word.setdefault(w, []).append(p)
        self._by_word = by_word
        self._profiles = profiles
        self._key = key
        self._weights = {}
        self._n = n

    def _weight(self, word: str) -> float:
        """How much a word says that a name is meant: as rare as it is among the profiles
        *and* in the documents' whole text. "Offer" in the title "Right of First Offer
        Agreement" is rare among titles but in most contracts' text, so a question about a
        right of first offer does not hold that name; "Theismann" is rare everywhere."""
        w = self._weights.get(word)
        if w is None:
            df = self.manifest.document_frequency(word)
            full = math.log(1 + (self._n - df + 0.5) / (df + 0.5)) if df else self._idf_max
            w = self._weights[word] = min(self._idf.get(word, 0.0), full)
        return w

    def scores(self, scope: str) -> dict[int, float]:
        """doc id -> score in [0, 1]: the share of the scope's weight the document matches.

        ``scope`` is text meant to name a document and nothing else. Only documents
        matching something are returned.
        """
        self._refresh()
        words = [w for w in dict.fromkeys(keywords(scope)) if w not in _GENERIC]
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

    def mentions(self, question: str) -> dict[int, Mention]:
        """Documents whose names the question holds, wherever and in whatever order.

        A name (the title, a party, a short name, the file name, a year) counts when the
        question holds at least ``name_share`` of its word weight (:meth:`_weight`): "Acme
        Labs" holds "ACME LABS, INC.", but "right of first offer" does not hold "Non-
        Competition and Right of First Offer Agreement". Strength is the idf among profiles
        of the question words the document's names hold, over that of a word only one
        document holds, so it reads the same in any size of library.
        """
        self._refresh()
        words = frozenset(keywords(question)) - _GENERIC
        candidates = {p.doc_id: p for w in words for p in self._by_word.get(w, ())}
        out: dict[int, Mention] = {}
        for p in candidates.values():
            held: set[str] = set()
            for name in p.names:
                common = name & words
                if not common:
                    continue
                have = sum(self._weight(w) for w in common)
                if have > 0 and have >= self.name_share * sum(self._weight(w) for w in name):
                    held |= common
            if held:
                strength = sum(self._idf.get(w, 0.0) for w in held) / self._idf_max
                out[p.doc_id] = Mention(strength, frozenset(held))
        return out


def without_words(text: str, words: frozenset[str]) -> str:
    """``text`` less the given words (lower case): the question once its names are gone."""
    return " ".join(w for w in WORD.findall(text) if w.lower() not in words) if words else text
