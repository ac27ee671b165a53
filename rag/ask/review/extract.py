"""Short answers read off a cell's quotes, without a language model: the governing state
or country, a date or a term, a duration, an amount, yes/no with its deciding quote.

Each is a few words copied from the quote (normalised only in spacing), so that a
reviewer can check it against the quote beside it at a glance. Where nothing of the
answer's type is in the quote, the answer is the quote's first words: the grid is never
blank where a clause was found.
"""

from __future__ import annotations

import re

from rag.ask.facts import _PLACES  # the places the checker knows: one list for both

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
_DATE = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:day of\s+)?{_MONTH},?\s+"
    r"\d{4}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|" \
          r"forty-?five|forty|sixty|ninety|one hundred(?: and)? (?:twenty|eighty))"
_DURATION = re.compile(
    rf"\b{_NUMBER}(?:\s*\(\d+\))?[\s-]+(?:calendar\s+|business\s+|consecutive\s+|additional\s+|successive\s+)?"
    r"(?:days?|weeks?|months?|years?)\b", re.I)
_AMOUNT = re.compile(
    r"(?:US\s?)?\$\s?\d[\d,]*(?:\.\d+)?(?:\s*(?:million|billion|thousand))?"
    r"|\b\d[\d,]*(?:\.\d+)?\s*(?:dollars|euros|pounds|USD|EUR|GBP)\b"
    r"|\b(?:fees?|amounts?|sums?|compensation)\s+(?:actually\s+)?paid\b[^.;]{0,80}", re.I)
_LAW = re.compile(
    r"\blaws?\s+(?:of|in)\s+(?:the\s+)?(?:(?:State|Province|Commonwealth|Republic|Kingdom|People's Republic)\s+of\s+)?"
    r"((?:[A-Z][A-Za-z.]+)(?:\s+(?:of\s+)?[A-Z][A-Za-z.]+){0,3})")
_DOSE = re.compile(r"\b[A-Z]?[a-z]{3,}\s+\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|g|ml|units?|iu)\b[^.;,\n]{0,30}", re.I)
_WORDS = 18  # of a quote, when nothing of the answer's type is in it


def short_answer(kind: str, text: str) -> str:
    """A few words answering a question of answer type ``kind`` from ``text`` (a quote)."""
    flat = " ".join(text.split())
    if kind == "place":
        m = _LAW.search(flat)
        if m:
            return _trim_place(m.group(1))
        places = [w for w in re.findall(r"[A-Z][a-z]+", flat) if w.lower() in _PLACES]
        if places:
            return places[0]
    if kind == "date":
        m = _DATE.search(flat)
        d = _DURATION.search(flat)
        if m and d:
            return f"{m.group(0)}; {d.group(0)}" if d.start() < m.start() + 200 else m.group(0)
        if m or d:
            return (m or d).group(0)  # type: ignore[union-attr]
    if kind in ("duration", "date"):
        d = _DURATION.search(flat)
        if d:
            return d.group(0)
    if kind == "amount":
        m = _AMOUNT.search(flat)
        if m:
            return m.group(0).strip()
    if kind == "list":
        doses = list(dict.fromkeys(m.group(0).strip() for m in _DOSE.finditer(flat)))
        if doses:
            return "; ".join(doses[:4])
    if kind == "yesno":
        return "Yes: " + _first_words(flat)
    return _first_words(flat)


def _trim_place(name: str) -> str:
    """"New York without regard" -> "New York": a place ends where its capitals do."""
    words = name.split()
    while words and words[-1].lower() in ("the", "of", "without", "and", "in"):
        words.pop()
    return " ".join(words).rstrip(".,")


def _first_words(flat: str) -> str:
    # Past a clause number ("12.3 ") the words themselves.
    flat = re.sub(r"^\(?[\dA-Za-z]{1,3}(?:\.\d{1,3})*[.)]?\s+(?=\S)", "", flat, count=1)
    words = flat.split()
    return " ".join(words[:_WORDS]) + ("…" if len(words) > _WORDS else "")
