"""A concept lexicon: the plain words people ask in, and the words documents are written in.

Each concept (``data/plain_terms.json``, with its sources and licence) pairs plain cues
("walk away", "hand * over", "blood thinner*") with the terms of the clause or note that
answers them ("terminate", "convenience"; "assign", "transfer"; "anticoagulant"). A
:class:`Lexicon` is a :class:`rag.ask.expansion.QueryExpander`: the terms of every concept
whose cue the question holds, at ``weight`` (below the user's own words, since a cue is
evidence of a concept, not proof).

Cues are matched on whole words, lower case: ``word*`` matches any ending ("poach" finds
"poaching"), and a lone ``*`` stands for one to twelve words, so "hand * over" still
matches when the document's name sits in the middle ("hand the supply agreement with Acme
over to ...").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.ask.expansion import ExpansionTerm

DATA = Path(__file__).with_name("data") / "plain_terms.json"
# Below the user's words (1.0): a cue is evidence of a concept, not proof. 0.5 -> 0.8 took
# cuad-dev's plain wordings from 0.761 to 0.824 (span recall within 8,000 characters), the
# other phrasings unchanged; 0.9 gave 0.842 but leaves too little margin for a wrong cue.
DEFAULT_WEIGHT = 0.8


@dataclass(frozen=True)
class Concept:
    id: str
    domain: str  # "legal" or "clinical"
    cues: tuple[re.Pattern[str], ...]
    terms: tuple[str, ...]
    source: str  # a key of the data file's "sources"


def _cue(text: str) -> re.Pattern[str]:
    parts = []
    for word in text.lower().split():
        if word == "*":
            parts.append(r"(?:\S+\s+){0,11}\S+")  # one to twelve words
        elif word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"[\w'-]*")
        else:
            parts.append(re.escape(word))
    return re.compile(r"(?<![\w'-])" + r"\s+".join(parts) + r"(?![\w'-])")


def _normal(text: str) -> str:
    """Lower case, typographic apostrophes and dashes as typed ones, runs of space as one."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-")
    return re.sub(r"\s+", " ", re.sub(r"[?!.,;:()\"]", " ", text)).strip()


class Lexicon:
    """Plain cues -> terms; a :class:`rag.ask.expansion.QueryExpander`."""

    def __init__(self, concepts: Sequence[Concept], weight: float = DEFAULT_WEIGHT,
                 domains: frozenset[str] | None = None) -> None:
        self.concepts = tuple(c for c in concepts if domains is None or c.domain in domains)
        self.weight = weight

    @classmethod
    def load(cls, path: Path = DATA, weight: float = DEFAULT_WEIGHT,
             domains: frozenset[str] | None = None) -> Lexicon:
        return cls(_read(path), weight, domains)

    def concepts_in(self, question: str) -> list[Concept]:
        """The concepts whose cues ``question`` holds, in the data file's order."""
        text = _normal(question)
        return [c for c in self.concepts if any(cue.search(text) for cue in c.cues)]

    def expand(self, question: str) -> list[ExpansionTerm]:
        return [ExpansionTerm(term, self.weight, f"lexicon:{c.id}")
                for c in self.concepts_in(question) for term in c.terms]


@cache
def _read(path: Path) -> tuple[Concept, ...]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    sources = raw["sources"]
    out = []
    for c in raw["concepts"]:
        if c["source"] not in sources:
            raise ValueError(f"{path.name}: concept {c['id']} cites unknown source {c['source']!r}")
        out.append(Concept(c["id"], c["domain"], tuple(_cue(p) for p in c["plain"]),
                           tuple(c["terms"]), c["source"]))
    return tuple(out)
