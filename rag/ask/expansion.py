"""Query expansion: words a question does not say but its answer is written in.

A client asks "can we walk away without giving a reason?"; the contract says "either party
may terminate this Agreement for convenience". Keyword search only finds the clause in its
own words, so expanders propose such words (:class:`ExpansionTerm`), each with a weight
relative to the user's own words (1.0). Retrieval searches them as a ranked list of their
own, fused below the user's words (rag/ask/retrieval.py), so a term that is only a guess
can lift a passage the question missed, never push down one that matches what was asked.

Any source of terms plugs in as a :class:`QueryExpander`: the plain-words lexicon
(:mod:`rag.ask.lexicon`), and equally clinical abbreviations (EBL -> estimated blood loss,
at a weight near 1.0, since an abbreviation means exactly its expansion).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from rag.text import keywords, stem


@dataclass(frozen=True)
class ExpansionTerm:
    text: str  # a word or phrase as documents write it: "terminate", "change of control"
    weight: float  # relative to the question's own words (1.0); below 1 for a looser meaning
    origin: str  # where it came from, for debugging and tests: "lexicon:assignment"


@runtime_checkable
class QueryExpander(Protocol):
    def expand(self, question: str) -> list[ExpansionTerm]:
        """Terms to search besides ``question``'s own words (none when it needs none)."""
        ...


def expand_question(question: str, expanders: Iterable[QueryExpander]) -> list[ExpansionTerm]:
    """Every expander's terms for ``question``, less the words it already holds (they are
    searched at full weight already), one entry per text at its highest weight."""
    own = {stem(w) for w in keywords(question)}
    best: dict[str, ExpansionTerm] = {}
    for expander in expanders:
        for term in expander.expand(question):
            words = {stem(w) for w in keywords(term.text)}
            if not words or words <= own:
                continue
            key = term.text.lower()
            if key not in best or term.weight > best[key].weight:
                best[key] = term
    return sorted(best.values(), key=lambda t: -t.weight)


def keyword_text(terms: Sequence[ExpansionTerm], question: str = "") -> str:
    """The terms as one keyword query, without the question's own words: those are
    searched in the user's list, and counting them here again would let this list rank
    a passage for what the user said rather than for what the terms add."""
    own = {stem(w) for w in keywords(question)}
    words = [w for t in terms for w in keywords(t.text) if stem(w) not in own]
    return " ".join(dict.fromkeys(words))


def embedding_text(question: str, terms: Sequence[ExpansionTerm], most: int = 6) -> str:
    """The question followed by its strongest terms: what an embedding of the question
    would be near if the user had known the clause's name."""
    extra = [t.text for t in terms[:most]]
    return f"{question} ({'; '.join(extra)})" if extra else question
