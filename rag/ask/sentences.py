"""Sentences and clause spans of legal and clinical text, as exact character offsets.

The quote picker shows these spans verbatim and the sentence checker judges generated
text one span at a time, so both must split the same way. Contracts break the usual
rules: abbreviations ("Inc.", "U.S.", "Sec.") end no sentence, "(a) ...; (b) ..." lists
are clauses of their own, and PDF text wraps lines mid-sentence, so a single newline
ends nothing unless a numbered item or heading starts the next line.
"""

from __future__ import annotations

import re

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """inc corp co ltd llc lp plc no nos sec secs art arts para paras e.g i.e etc vs viz
    mr mrs ms dr st jr sr u.s u.k n.a s.a a.g b.v n.v p.c l.p l.l.c approx dept fig
    jan feb mar apr jun jul aug sep sept oct nov dec mg ml""".split()
)

# A hard break: a blank line, or a line that opens a bullet, a numbered or lettered item.
_BREAK = re.compile(
    r"\n[^\S\n]*\n\s*"  # blank line
    r"|\n(?=[^\S\n]*(?:[-*•●][^\S\n]|\(?[a-z]{1,2}\)[^\S\n]|\(?[ivxlc]{1,5}\)[^\S\n]"
    r"|\d{1,2}(?:\.\d{1,2})*[.)]?[^\S\n]+[A-Z(\"“]|(?:ARTICLE|Article|SECTION|Section)[^\S\n]"
    r"|[A-Z][A-Z/&() -]{1,40}:[^\S\n]))"  # a section label in capitals: "EBL: 5 mL.\nCOMPLICATIONS: None."
)
# A soft end: ".", "!", "?" or ";" (closing quotes/brackets allowed), then a space.
_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)|;(?:\s+(?:and|or)\b)?(?=\s)")
_LIST_ITEM = re.compile(r"^\s*(?:\(?[a-z]{1,2}\)|\(?[ivxlc]{1,5}\)|\(\d{1,2}\))\s")
_LOWER_NEXT = re.compile(r"\s*[a-z]")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")

# A label and what it says, however short ("COMPLICATIONS: None.", "EBL: Minimal."): a
# clinical section that answers on its own, not a fragment to join to the next sentence.
_LABELLED = re.compile(r"[A-Z][A-Za-z /-]{1,40}:[^\S\n]*[A-Za-z0-9][^\n]*[.!?]")
MIN_SPAN = 25  # characters: shorter pieces ("12.3", "Term.") join their neighbour


def spans(text: str, start: int = 0, end: int | None = None, min_span: int = MIN_SPAN) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences and clauses of ``text[start:end]``, whitespace
    trimmed, in order, covering all its non-blank text."""
    end = len(text) if end is None else end
    cuts = [start]
    for m in _BREAK.finditer(text, start, end):
        cuts.append(m.start())
    for m in _END.finditer(text, start, end):
        if text[m.start()] == "." and (_is_abbreviation(text, m.start()) or _lower_follows(text, m.end())):
            continue
        cuts.append(m.end())
    cuts.append(end)
    raw: list[tuple[int, int]] = []
    for a, b in zip(sorted(set(cuts)), sorted(set(cuts))[1:]):
        a, b = _trim(text, a, b)
        if b > a:
            raw.append((a, b))
    # Join pieces too short to stand alone (a bare number, a one-word heading) to the next.
    out: list[tuple[int, int]] = []
    carry: int | None = None
    for a, b in raw:
        if carry is not None:
            a = carry
            carry = None
        if b - a < min_span and not _LABELLED.fullmatch(text, a, b):
            carry = a
            continue
        out.append((a, b))
    if carry is not None:
        if out:
            out[-1] = (out[-1][0], raw[-1][1])
        else:
            out.append((carry, raw[-1][1]))
    return out


def blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of the paragraphs and numbered or lettered items of ``text``: what a
    reader calls a clause. Sentences (:func:`spans`) nest inside them."""
    cuts = [0, *(m.start() for m in _BREAK.finditer(text)), len(text)]
    out = []
    for a, b in zip(cuts, cuts[1:]):
        a, b = _trim(text, a, b)
        if b > a:
            out.append((a, b))
    return out


def is_list_item(text: str) -> bool:
    """True for "(a) ...", "(iv) ...", "b) ...": a clause that belongs to a lead-in."""
    return bool(_LIST_ITEM.match(text))


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _lower_follows(text: str, at: int) -> bool:
    """A period followed by a lower-case word ("U.S.A. without") ends no sentence."""
    return bool(_LOWER_NEXT.match(text, at))


def _is_abbreviation(text: str, dot: int) -> bool:
    m = _WORD_BEFORE.search(text, max(0, dot - 12), dot)
    if not m:
        return False  # "3." or ")." ends a sentence
    word = m.group(1).lower().rstrip(".")
    if word in _ABBREVIATIONS:
        return True
    # A single capital ("John A. Smith", "Schedule A. ") is an initial unless it closes a sentence
    # before a capitalised word; initials are far more common in contracts' party blocks.
    return len(word) == 1 and m.group(1).isupper() and dot + 2 < len(text) and text[dot + 2 : dot + 3].isupper()
