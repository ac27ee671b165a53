"""Clinical vocabulary: abbreviations both ways, and which section answers a question.

Notes write "EBL: 50 mL" and "NKDA"; clinicians ask "how much blood was lost?" and "any
drug allergies?", and the other way round. :func:`expand` adds the other spelling to what
keyword search and the checker's wording match read. And a reviewer's question asks for a
section ("Were there any complications?" is answered by "COMPLICATIONS: None.", not by the
consent paragraph about the risks of complications): :func:`asked_subjects` says which,
and :func:`answers` whether a section label or heading path is one of them.

The data, with its sources, is ``data/clinical_terms.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("data") / "clinical_terms.json"
_WORD = re.compile(r"[a-z]+")
# Words a label adds to its subject without changing it: "CURRENT MEDICATIONS", "PROCEDURES PERFORMED".
_QUALIFIERS = frozenset("current final brief the of performed".split())


@dataclass(frozen=True)
class Subject:
    name: str  # "Blood loss"
    labels: frozenset[str]  # normalised labels: "estimated blood loss", "ebl"
    asked_by: tuple[frozenset[str], ...]  # sets of normalised words a question holds


@dataclass(frozen=True)
class _Abbreviation:
    short: re.Pattern[str]
    long: tuple[str, ...]
    long_rx: re.Pattern[str]
    plain: str  # the short form as keyword search reads it ("" for "b.i.d.": dotted, one letter each)


def _norm_word(w: str) -> str:
    """"diagnoses" and "diagnosis" -> "diagnos"; "allergies" -> "allergy": one form per label word."""
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    for suffix in ("is", "es", "s"):
        if w.endswith(suffix) and len(w) > len(suffix) + 3:
            return w[: -len(suffix)]
    return w


def normalise(text: str) -> tuple[str, ...]:
    """A label or question as normalised words: "PRE-OPERATIVE DIAGNOSES" -> ("preoperative", "diagnos")."""
    text = re.sub(r"\b(pre|post)[\s-]+(?=op)", r"\1", text.lower())
    return tuple(_norm_word(w) for w in _WORD.findall(text))


@cache
def _load() -> tuple[tuple[Subject, ...], tuple[_Abbreviation, ...]]:
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    subjects = tuple(
        Subject(s["subject"], frozenset(" ".join(normalise(x)) for x in s["labels"]),
                tuple(frozenset(normalise(" ".join(words))) for words in s["asked_by"]))
        for s in raw["sections"]
    )
    abbreviations = []
    for a in raw["abbreviations"]:
        short = a["short"]
        # Capitals match as capitals only ("NKDA", not a word that happens to be spelled so).
        flags = 0 if short.isupper() else re.I
        rx = re.compile(rf"(?<![\w.]){re.escape(short)}(?![\w])", flags)
        long_rx = re.compile(r"\b(?:" + "|".join(re.escape(x) for x in a["long"]) + r")\b", re.I)
        plain = short.lower() if re.fullmatch(r"[A-Za-z]{2,}", short) else ""
        abbreviations.append(_Abbreviation(rx, tuple(a["long"]), long_rx, plain))
    return subjects, tuple(abbreviations)


def asked_subjects(question: str) -> tuple[Subject, ...]:
    """The sections a question asks for (usually none or one)."""
    words = set(normalise(question))
    return tuple(s for s in _load()[0] if any(need <= words for need in s.asked_by))


def label_key(label: str) -> str:
    """A section label as its subject's labels are kept: qualifiers dropped."""
    words = [w for w in normalise(label) if w not in _QUALIFIERS]
    return " ".join(words)


def answers(label: str, subjects: tuple[Subject, ...]) -> bool:
    """Whether a section label ("CURRENT MEDICATIONS", or a heading path whose last part is
    one: "Consult > Current medications") is one of the sections asked for."""
    if not subjects or not label:
        return False
    last = re.split(r"\s+[>›]\s+", label)[-1]
    key, whole = label_key(last), " ".join(normalise(last))
    return any(key in s.labels or whole in s.labels for s in subjects)


def expand(text: str) -> str:
    """``text`` with the other spelling of each clinical abbreviation it uses appended:
    "EBL" adds "estimated blood loss", "no known drug allergies" adds "nkda"."""
    extra: list[str] = []
    for a in _load()[1]:
        if a.short.search(text):
            extra.extend(a.long)
        elif a.plain and a.long_rx.search(text):
            extra.append(a.plain)
    return f"{text} {' '.join(extra)}" if extra else text
