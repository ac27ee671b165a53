"""Every generated sentence checked against the sources it cites.

A sentence is *supported* when it cites a source that holds its facts (numbers, dates,
places, parties: exactly) and most of its wording; *contradicted* when a fact differs
from what the cited source says in its place ("60 days" where the source says "thirty
(30) days", New York where it says Delaware); *unsupported* otherwise, and then shown
marked, never as fact. Only wording and facts are compared: no model judges a model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rag.ask.facts import Fact, SourceFacts, facts, plural
from rag.ask.sentences import spans
from rag.text import STOPWORDS, stem
from rag.types import SentenceCheck, Support

_CITE = re.compile(r"\[(\d{1,2})\]")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
# The keyword search's stop words, plus what answers say about their own sources.
_STOP = STOPWORDS | frozenset(
    "not but you our one also only more most some very over about after before shall then "
    "they them document documents source sources answer question say states yes".split()
)
# A sentence that declines makes no claim to check.
_DECLINE = re.compile(
    r"\b(?:do(?:es)?\s+not|don't|doesn't|did\s+not|could\s+not|cannot|can't)\s+(?:\w+\s+){0,3}?"
    r"(?:say|state|mention|specify|contain|include|find|address|cover|provide|answer)|"
    r"\bno\s+(?:information|mention)\b|\bnot\s+(?:stated|mentioned|specified)\b",
    re.I,
)
MIN_COVERAGE = 0.5  # of a sentence's content words found in the source it cites
# Adding a missing [n] asks for more: the claim must be mostly that source's wording.
CITE_MIN_WORDS = 3  # shorter statements ("Yes.") match anything
CITE_MIN_COVERAGE = 0.6


def content_words(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP}


def _plain(sentence: str) -> str:
    return _CITE.sub(" ", sentence)


def check_sentence(sentence: str, sources: Mapping[int, SourceFacts]) -> tuple[Support, tuple[int, ...], str]:
    """(verdict, source numbers, reason) for one sentence; ``sources`` by citation number."""
    cited = tuple(n for n in dict.fromkeys(int(x) for x in _CITE.findall(sentence)) if n in sources)
    plain = _plain(sentence)
    if _DECLINE.search(plain):
        return Support.SUPPORTED, cited, "says the documents do not state it"
    fs = facts(plain)
    words = content_words(plain)
    if not words:
        # "12." or "$5,000." says a value but not what it is the value of: a number that
        # happens to be in the source (a clause number, another amount) would vouch for it.
        return Support.UNSUPPORTED, cited, "does not say what it answers — check"

    def holds(n: int) -> tuple[list[Fact], float]:
        src = sources[n]
        missing = [f for f in fs if not src.has(f)]
        cover = len({w for w in words if w in {stem(x) for x in src.words}}) / len(words) if words else 1.0
        return missing, cover

    for n in cited:
        missing, cover = holds(n)
        if not missing and cover >= MIN_COVERAGE:
            return Support.SUPPORTED, (n,), ""
    # A fact that differs from what the cited (or best-matching) source says in its place:
    # checked before looking elsewhere, so that "10 days" found in some other clause does
    # not excuse contradicting the clause that answers.
    candidates = cited or tuple(sorted(sources, key=lambda n: holds(n)[1], reverse=True)[:1])
    for n in candidates:
        missing, cover = holds(n)
        if not cited and cover < 0.3:
            continue  # about something else altogether: not a contradiction of it
        for f in missing:
            rival = sources[n].rival(f)
            if rival and f.kind in ("number", "place", "party"):
                said = f"{f.text} {plural(f.unit, f.value)}" if f.unit else f.text
                return Support.CONTRADICTED, (n,), f"[{n}] says {rival}, not {said}"
    # Cited wrongly or not at all: another single source may hold it all.
    for n in sources:
        if n in cited:
            continue
        missing, cover = holds(n)
        if not missing and cover >= MIN_COVERAGE and (fs or len(words) >= 3):
            return Support.SUPPORTED, (n,), f"found in [{n}]"
    if not cited:
        return Support.UNSUPPORTED, (), "not found in the sources — check"
    missing, _cover = holds(cited[0])
    if missing:
        what = ", ".join(f.text for f in missing[:3])
        return Support.UNSUPPORTED, cited, f"{what}: not found in the sources — check"
    return Support.UNSUPPORTED, cited, "not found in the sources — check"


# -- citations the model left out ---------------------------------------------------------
# Small models often answer correctly but forget the [n]. A statement whose wording is
# found in one source gets that source's number, so every claim stays one click away
# from its evidence. Only wording is compared (no guessing at meaning), and only where the
# match is strong; statements that match no source stay uncited rather than mis-cited.
def ground_uncited(text: str, sources: Sequence[str]) -> str:
    """``text`` with ``[n]`` added after each uncited statement whose content words are
    mostly found in source ``n`` (1-based, the best-covering source)."""
    if not text or not sources:
        return text
    vocab = [content_words(s) for s in sources]
    out: list[str] = []
    last = 0
    for a, b in _sentences(text):
        sentence = text[a:b]
        if _CITE.search(sentence):
            continue
        words = content_words(sentence)
        if len(words) < CITE_MIN_WORDS:
            continue
        coverage = [len(words & v) / len(words) for v in vocab]
        best = max(range(len(vocab)), key=lambda i: coverage[i])
        if coverage[best] < CITE_MIN_COVERAGE:
            continue
        body = sentence.rstrip()
        stripped = body.rstrip(".!?")
        at = a + len(stripped)
        out.append(text[last:at] + f" [{best + 1}]")
        last = at
    out.append(text[last:])
    return "".join(out)



def check_answer(text: str, sources: Mapping[int, str]) -> list[SentenceCheck]:
    """A verdict for each sentence of ``text``; ``sources`` maps citation numbers to the
    text each stands for (its passage and its quotes)."""
    parsed = {n: SourceFacts.of(t) for n, t in sources.items()}
    out: list[SentenceCheck] = []
    for a, b in _sentences(text):
        sentence = text[a:b]
        plain = _plain(sentence)
        if not content_words(plain) and not _DIGIT.search(plain):
            continue  # "Yes." or a bare "[1]": no claim to check (never marked supported)
        verdict, ns, reason = check_sentence(sentence, parsed)
        out.append(SentenceCheck(a, b, sentence, verdict, ns, reason))
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentences of an answer: list items and lines count as sentences too. A citation
    written after the period ("… days. [2]") stays with its sentence."""
    out: list[tuple[int, int]] = []
    for a, b in spans(text, min_span=1):
        if out and _CITE.fullmatch(text[a:b].strip(" .")) is not None:
            out[-1] = (out[-1][0], b)
            continue
        m = re.match(r"\s*(?:\[\d{1,2}\]\s*)+", text[b:])
        if m:
            b += len(m.group(0).rstrip())
        if out and a < out[-1][1]:
            a = out[-1][1]
        out.append((a, b))
    return out


def cited_numbers(text: str) -> list[int]:
    """Source numbers the answer text cites, in order of first mention."""
    return list(dict.fromkeys(int(m) for m in _CITE.findall(text)))
