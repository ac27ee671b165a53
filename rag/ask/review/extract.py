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
        d = _term_duration(flat)
        if m and d:
            return f"{m.group(0)}; {d.group(0)}" if d.start() < m.start() + 200 else m.group(0)
        if m or d:
            return (m or d).group(0)  # type: ignore[union-attr]
    if kind == "duration":  # a term's answer is no notice period: its quote's words then
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


# A period of notice, or a window before a date: "upon sixty (60) days' written notice",
# "at least ninety (90) days prior to the expiration", "notice of thirty (30) days". A
# term clause often names one ("... renews unless either party gives sixty (60) days'
# notice"), and it is not how long the agreement lasts.
_NOTICE_AFTER = re.compile(r"^\W{0,3}(?:s\b)?\W{0,2}(?:(?:prior|advance|written|express|formal)\s+){0,3}notice\b"
                           r"|^\s*(?:prior to|before|in advance of|preceding|notice)\b", re.I)
_NOTICE_BEFORE = re.compile(r"\bnotice\s+(?:period\s+)?(?:of\s+)?(?:at least\s+|not less than\s+|no less than\s+)?$"
                            r"|\b(?:upon|on|with|giving|by|within)\s+(?:at least\s+|not less than\s+)?$", re.I)


def _term_duration(flat: str) -> re.Match[str] | None:
    """The first duration in ``flat`` that is not a period of notice (nor one counted
    from a notice or before a date): how long a term lasts."""
    for d in _DURATION.finditer(flat):
        if _NOTICE_AFTER.search(flat[d.end() : d.end() + 40]) or _NOTICE_BEFORE.search(flat[max(0, d.start() - 40) : d.start()]):
            continue
        return d
    return None


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
