"""Which documents a question is about, from what the question says.

People name a document in many ways: "Consider the Supply Agreement between Acme Corp. and
Widget LLC; what is the governing law?", "what's the term of our contract with Acme?",
"is there a cap on liability in the 2019 supply agreement?", or not at all. Everything is
matched against each document's profile (file name, title, parties and their short names,
years: :mod:`rag.ingest.profiles`) and opening text, weighting words by how rare they are
across the library: "Acme" says far more than "Agreement".

When the question has the shape "<which document>; <question>?", :func:`split_query`
separates the two and :meth:`DocumentScorer.scores` scores the first part alone. Otherwise
:meth:`DocumentScorer.mentions` looks for a profile's names anywhere in the question, word
order and punctuation aside: a name counts when the question holds most of its weight.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rag.ingest.clinical_profile import naming_tokens
from rag.ingest.profiles import DocProfile
from rag.protocols import Store
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
    return frozenset(w for w in _naming_words(text) if w not in _GENERIC)


def _naming_words(text: str) -> list[str]:
    """Keywords, and the tokens of a report's number and dates ("Consult - 2" -> n2)."""
    return keywords(text) + naming_tokens(text)


_CAMEL = re.compile(r"([a-z])([A-Z])")
_CORE_TITLE = re.compile(r"^(.+?\bagreement)\b.+", re.I | re.S)
_FILE_PARTS = re.compile(r"\s+-\s+")
_NUMBER_PART = re.compile(r"\s+-\s+(\d{1,3})(?=\s+-\s+|$)")


@dataclass(frozen=True)
class _Profile:
    doc_id: int
    head: frozenset[str]  # words of the file name, title, parties, short names and years
    body: frozenset[str]  # words of the opening text
    names: tuple[frozenset[str], ...]  # each name on its own: the title, each party, ...
    titles: tuple[frozenset[str], ...]  # of those, the file name's parts and the title


@dataclass(frozen=True)
class Mention:
    """A document a question names: how strongly, and by which of the question's words."""

    strength: float  # how rare its words are among names and in the text (see mentions)
    among_names: float  # how rare among names alone: is this a name at all?
    words: frozenset[str]  # the question's words that name it (and at most a few others)
    held: frozenset[str]  # all the question's words its names hold: what to take out of the
    # question to keep what it asks ("the supply agreement with Acme" is no clause to rank by)
    whole: bool = False  # the question holds its title whole: a name however common its words


class DocumentScorer:
    """Scores documents by how well their profile and opening text match a question."""

    def __init__(self, store: Store, opening_chars: int = 2000, name_share: float = 0.5) -> None:
        self.store = store
        self.opening_chars = opening_chars
        self.name_share = name_share  # share of a name's weight a question must hold to name it
        self._key: tuple[tuple[int, str], ...] = ()
        self._marker: str | None = None
        self._profiles: list[_Profile] = []
        self._idf: dict[str, float] = {}
        self._idf_max = 1.0
        self._by_word: dict[str, list[_Profile]] = {}
        self._weights: dict[str, float] = {}
        self._n = 0
        self._clinical: dict[int, tuple[str, str]] = {}  # clinical report -> (patient|dob, record)

    def refresh(self) -> None:
        """Read the profiles again if the library changed: each search does it first, and a
        server warming a matter before its user asks."""
        # Reading every profile to see whether any changed took 7 ms a question at 540
        # documents: the manifest says whether anything was written since.
        marker = self.store.change_marker()
        if marker == self._marker:
            return
        self._marker = marker
        profiles_of = self.store.profiles()
        key = tuple(sorted((d, n) for d, (n, _p) in profiles_of.items()))
        if key == self._key:
            return
        profiles = []
        df: dict[str, int] = {}
        clinical: dict[int, tuple[str, str]] = {}
        openings = self.store.first_texts([d for d, _n in key], self.opening_chars)
        for doc_id, name in key:
            prof: DocProfile = profiles_of[doc_id][1]
            if prof.kind:
                clinical[doc_id] = (f"{prof.patient.lower()}|{prof.dob}" if prof.patient and prof.dob else "",
                                    prof.record)
            stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            # Each part of a file name is a name of its own: "Acme - Supply Agreement".
            # A bare number is no name: "Consult - 2" is the second consult, not "2".
            parts = [_name_terms(x, file_name=True) for x in _FILE_PARTS.split(_NUMBER_PART.sub(r" #\1", stem))]
            # A long title goes by its head too: "Cooperation Agreement on Mobile Game
            # Business" is "the cooperation agreement".
            core = _CORE_TITLE.match(prof.title)
            names = tuple(n for n in (*parts, *map(_name_terms, (prof.title, core.group(1) if core else "",
                                                                   *prof.parties, *prof.aliases, *prof.years,
                                                                   *prof.clinical_names())))
                          if n)
            head = frozenset().union(*names) if names else frozenset()
            body = frozenset(keywords(openings.get(doc_id, "")))
            titles = tuple(n for n in (*parts, _name_terms(prof.title)) if n)
            profiles.append(_Profile(doc_id, head, body, names, titles))
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
        self._clinical = clinical

    def _weight(self, word: str) -> float:
        """How much a word says that a name is meant: as rare as it is among the profiles
        *and* in the documents' whole text. "Offer" in the title "Right of First Offer
        Agreement" is rare among titles but in most contracts' text, so a question about a
        right of first offer does not hold that name; "Theismann" is rare everywhere."""
        w = self._weights.get(word)
        if w is None:
            df = self.store.document_frequency(word)
            full = math.log(1 + (self._n - df + 0.5) / (df + 0.5)) if df else self._idf_max
            w = self._weights[word] = min(self._idf.get(word, 0.0), full)
        return w

    def scores(self, scope: str) -> dict[int, float]:
        """doc id -> score in [0, 1]: the share of the scope's weight the document matches.

        ``scope`` is text meant to name a document and nothing else. Only documents
        matching something are returned.
        """
        self.refresh()
        words = [w for w in dict.fromkeys(_naming_words(scope)) if w not in _GENERIC]
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

    def same_patient(self, named: Iterable[int]) -> set[int] | None:
        """When every named document is a clinical report: the reports that may be about
        the same patient (the named ones, and those whose name and date of birth, or record
        number, match one of theirs); None otherwise. A question about one patient's report
        must show nothing from another patient's, however similar its wording."""
        self.refresh()
        named = set(named)
        if not named or not named <= self._clinical.keys():
            return None
        ids = {x for d in named for x in self._clinical[d] if x}
        return named | {d for d, xs in self._clinical.items() if ids & {x for x in xs if x}}

    def _misspelled(self, words: frozenset[str]) -> dict[str, str]:
        """Long words no document holds that misspell a name: people type "Melavante" for
        "Metavante". Only names rare in the text qualify, so that a clause word one letter
        from a common word names nothing. Misspelling -> name."""
        out = {}
        for w in words:
            if len(w) < 6 or w in self._by_word or w in self._idf:
                continue
            for name in self._by_word:
                if (abs(len(name) - len(w)) <= 1 and _one_edit(w, name)
                        and self._weight(name) >= 0.8 * self._idf_max):
                    out[w] = name
        return out

    def mentions(self, question: str, most: int = 3) -> dict[int, Mention]:
        """Documents whose names the question holds, wherever and in whatever order.

        A name (the title, a party, a short name, the file name, a year) counts when the
        question holds at least ``name_share`` of its word weight (:meth:`_weight`): "Acme
        Labs" holds "ACME LABS, INC.", but "right of first offer" does not hold "Non-
        Competition and Right of First Offer Agreement". Strength adds up how rare the words
        the document's names hold are, among profiles and in the text (the geometric mean),
        over the rarity of a word only one document holds, so it reads the same in any size
        of library; ``among_names`` the same among profiles alone. Titles are made of
        common words ("the consulting agreement"), so whether a question names a document
        at all is judged among names; which of several it names best, everywhere. A word that names
        more than ``most`` documents names a kind of document ("the intellectual property
        agreement" in a library of several), not one, and is left out.
        """
        self.refresh()
        words = frozenset(_naming_words(question)) - _GENERIC
        typos = self._misspelled(words)
        words |= frozenset(typos.values())
        candidates = {p.doc_id: p for w in words for p in self._by_word.get(w, ())}
        # doc -> held word -> the largest share of a name holding it that the question holds
        held: dict[int, dict[str, float]] = {}
        for p in candidates.values():
            for name in p.names:
                common = name & words
                if not common:
                    continue
                have = sum(self._weight(w) for w in common)
                share = have / (sum(self._weight(w) for w in name) or 1.0)
                if have > 0 and share >= self.name_share:
                    mine = held.setdefault(p.doc_id, {})
                    for w in common:
                        mine[w] = max(mine.get(w, 0.0), share)
        naming = Counter(w for ws in held.values() for w in ws)
        whole = self._whole_titles(candidates, words, held, most)
        out: dict[int, Mention] = {}
        for doc_id, ws in held.items():
            own = frozenset(w for w in ws if naming[w] <= most) or whole.get(doc_id, frozenset())
            if _namesake(doc_id, held, whole):
                continue
            if own:
                # Rare among names and rare in the text: "Sonos" outweighs "licensing", the
                # short name of a licensing subsidiary that a question about licensing holds.
                # A name held whole counts more than one held in part: "the development
                # agreement" is the "Development Agreement" more than the "Joint Development
                # Agreement".
                strength = sum(math.sqrt(self._idf.get(w, 0.0) * self._weight(w)) * ws[w] for w in own)
                among_names = sum(self._idf.get(w, 0.0) for w in own)
                typed = {t for t, name in typos.items() if name in ws}
                out[doc_id] = Mention(strength / self._idf_max, among_names / self._idf_max, own,
                                      frozenset(ws) | typed, doc_id in whole)
        return out


    def _whole_titles(self, candidates: dict[int, _Profile], words: frozenset[str],
                      held: dict[int, dict[str, float]], most: int) -> dict[int, frozenset[str]]:
        """doc -> the largest of its titles (or file name's parts) the question holds every
        word of, for the documents whose such title at most ``most`` documents share.

        Words many documents share name none of them ("inguinal hernia repair" in a record
        with five such reports), but a title held whole names the report that bears exactly
        it: "the Inguinal Hernia Repair report" is not "Inguinal Hernia Repair - 3", and "the
        Cystopyelogram - 1 report" is that one, not "Cystopyelogram"."""
        best: dict[int, frozenset[str]] = {}
        for p in candidates.values():
            full = [t for t in p.titles if t <= words and any(self._weight(w) > 0 for w in t)]
            if full:
                best[p.doc_id] = max(full, key=lambda t: (len(t), sum(self._weight(w) for w in t)))
        shared = Counter(best.values())
        out = {d: t for d, t in best.items() if shared[t] <= most}
        for d in out:
            held.setdefault(d, {}).update({w: 1.0 for w in out[d]})
        return out


def _namesake(doc_id: int, held: dict[int, dict[str, float]], whole: dict[int, frozenset[str]]) -> bool:
    """Whether another document, whose title the question holds whole, holds every word
    that names this one, and its whole title says more than this one's does: a near
    namesake ("Circumcision - Infant" when "the operative note for circumcision" is asked,
    both being operative notes), not the report meant."""
    mine, words = whole.get(doc_id, frozenset()), set(held[doc_id])
    return any(d != doc_id and words <= held[d].keys() and mine < t for d, t in whole.items())


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one letter changed, added, dropped or two swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1 :]


def without_words(text: str, words: frozenset[str]) -> str:
    """``text`` less the given words (lower case): the question once its names are gone."""
    return " ".join(w for w in WORD.findall(text) if w.lower() not in words) if words else text
