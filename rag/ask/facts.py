"""The checkable facts of a sentence: numbers (amounts, durations, dates' days and years),
months, places and names, each normalised so that "thirty (30) days", "30 days" and
"thirty days" all hold the number 30, and "$1,500,000.00" is 1500000.

The sentence checker requires every fact of a generated sentence to be in its source,
exactly: a near miss in a number or a party is what makes an answer dangerous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ask.clinical_terms import expand

_YEAR = re.compile(r"(?:19|20)\d\d")
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100,
}
_MONTHS = {
    m: i + 1 for i, m in enumerate(
        "january february march april may june july august september october november december".split()
    )
}
_MONTH_ABBR = {m[:3]: n for m, n in _MONTHS.items()} | {"sept": 9}

# Places a governing-law or venue clause names; a wrong one is a contradiction, not a gap.
_PLACES = frozenset(
    """alabama alaska arizona arkansas california colorado connecticut delaware florida georgia
    hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts
    michigan minnesota mississippi missouri montana nebraska nevada hampshire jersey mexico york
    carolina dakota ohio oklahoma oregon pennsylvania rhode tennessee texas utah vermont virginia
    washington wisconsin wyoming columbia england wales scotland ireland canada ontario quebec
    alberta british germany france italy spain netherlands switzerland sweden norway denmark
    china japan korea india singapore hong kong australia israel brazil luxembourg belgium
    austria bermuda cayman""".split()
)
_PLACE = re.compile(r"(?:\b(?:New|North|South|West|Rhode|Hong|British|United)\s+)?\b([A-Za-z]+)\b")
_CORPORATE = frozenset("inc incorporated corp corporation llc ltd limited lp llp plc gmbh ag sa co company".split())
# Capitalised words that name no particular party or place.
_COMMON_CAPS = frozenset(
    """the a an this that these those it its he she they we you i if in on at to of for by
    and or but not no yes as under upon each any all such our their your agreement contract
    section article schedule exhibit clause party parties licensee licensor company customer
    supplier distributor manufacturer seller buyer purchaser vendor client consultant provider
    effective date term territory product products services state states law laws court courts
    however therefore also both either neither according based source sources document
    documents page""".split()
)

# Numbers that only number something: a clause or list item opening a line ("12.", "12.1 A
# copy...", "(3) the"), a reference ("Section 12", "clause 4.2(b)", "page 3", "§ 5") or a
# page number on a line of its own ("- 12 -", "Page 3 of 9"). They say where, not how much:
# "12." does not answer "how many vacation days" because clause 12 mentions the handbook.
_ENUMERATOR = re.compile(
    # a line opening with "12.", "12)", "(3)", "12.1" or "12 GOVERNING LAW"
    r"^[^\S\n]*\(?(\d{1,3}(?:[.)](?=[^\S\n]|$)|(?:\.\d{1,3})+\.?(?=[^\S\n]+[A-Z(\"“]|[^\S\n]*$)|(?=[^\S\n]+[A-Z]{2})))"
    # "Section 12", "clause 4.2(b)", "page 3", "§ 5", "Exhibit 2"
    r"|(?i:\b(?:sections?|clauses?|articles?|paragraphs?|paras?|pages?|pp?|schedules?|exhibits?"
    r"|annex(?:es)?|appendix|appendices|items?|rules?|subsections?)\b|§+|¶)\.?[^\S\n]*\(?(\d{1,3}(?:\.\d{1,3})*)"
    # a page number on its own line: "- 12 -"
    r"|^[^\S\n]*[-–][^\S\n]*(\d{1,4})[^\S\n]*[-–][^\S\n]*$",
    re.M,
)
_NUM = re.compile(r"(?<![\w.])\$?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])\$?\d+(?:\.\d+)?")
_WORDNUM = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
_CAPWORD = re.compile(r"\b[A-Z][A-Za-z&'-]+(?:\s+(?:of\s+)?[A-Z][A-Za-z&'-]+)*")
_TOKEN = re.compile(r"[a-z0-9]+")
# What a number counts: skips "(30)" after "thirty" and "-" in "30-day".
_UNITS = frozenset(
    """percent day week month year hour minute business calendar working quarter time unit
    share dollar mg ml mcg kg lb mile""".split()
)
_UNIT = re.compile(r"(?:\s*\(\$?[\d,.]+\))?[\s-]*(%|per(?=\s*cent)|[a-z]+)", re.I)


@dataclass(frozen=True)
class Fact:
    kind: str  # "number" | "month" | "place" | "party" | "name"
    value: str  # normalised, comparable
    text: str  # as written
    unit: str = ""  # for a number, the word after it ("days", "percent", "%"), singular


def _number(raw: str) -> str:
    v = raw.lstrip("$").replace(",", "")
    if "." in v:
        v = v.rstrip("0").rstrip(".")
    return v


def _unit(text: str, at: int) -> str:
    m = _UNIT.match(text, at)
    if not m:
        return ""
    u = m.group(1).lower()
    u = "percent" if u in ("%", "per") else u
    u = u[:-1] if u.endswith("s") and len(u) > 3 else u
    return u if u in _UNITS else ""


def _enumerators(text: str) -> set[int]:
    """Where the numbers that only number a clause, list item or page start."""
    out: set[int] = set()
    for m in _ENUMERATOR.finditer(text):
        g = next(i for i in (1, 2, 3) if m.group(i) is not None)
        out.add(m.start(g))
    return out


def numbers(text: str) -> list[Fact]:
    """Numbers in ``text`` with their units: "thirty (30) days" gives 30 days (once).
    Clause, section, list and page numbers are left out: they state nothing."""
    out: list[Fact] = []
    skip = _enumerators(text)
    found = [(m.start(), m.end(), _number(m.group(0)), m.group(0)) for m in _NUM.finditer(text)
             if m.start() not in skip and m.start() - 1 not in skip]
    found += [(m.start(), m.end(), str(_NUMBER_WORDS[m.group(1).lower()]), m.group(0))
              for m in _WORDNUM.finditer(text)]
    for _a, b, value, raw in sorted(found):
        out.append(Fact("number", value, raw, _unit(text, b)))
    return out


def facts(text: str) -> list[Fact]:
    """The facts ``text`` states, in order, once each."""
    out: dict[tuple[str, str], Fact] = {}
    for f in numbers(text):
        known = out.get(("number", f.value))
        if known is None or (f.unit and not known.unit):
            out[("number", f.value)] = f
    lowered = _TOKEN.findall(text.lower())
    for w in lowered:
        month = _MONTHS.get(w)
        if month is not None and not (w == "may" and "May" not in text):
            out.setdefault(("month", str(month)), Fact("month", str(month), w))
    for m in _PLACE.finditer(text):
        w = m.group(1).lower()
        if w in _PLACES:
            out.setdefault(("place", w), Fact("place", w, m.group(0)))
    for m in _CAPWORD.finditer(text):
        words = [w for w in re.split(r"\s+", m.group(0)) if w.lower() != "of"]
        if len(words) == 1 and not text[: m.start()].strip(" \t\n-*•\"'“(["):
            continue  # a sentence's first word is capitalised whatever it is
        names = [w for w in words if w.lower() not in _COMMON_CAPS and w.lower() not in _MONTHS]
        names = [w for w in names if w.lower().rstrip(".") not in _CORPORATE and not w.isdigit()]
        if not names:
            continue
        value = " ".join(w.lower() for w in names)
        following = text[m.end() : m.end() + 14].lower()
        if any(w.lower() in _PLACES for w in names):
            continue  # a place, counted word by word above ("State of New York" has "york")
        if any(w.lower().rstrip(".,") in _CORPORATE for w in words) or re.match(
            r"[\s,]*(inc|llc|ltd|corp|corporation|limited|plc|gmbh|l\.p\.)\b", following
        ):
            kind = "party"
        else:
            kind = "name"
        out.setdefault((kind, value), Fact(kind, value, " ".join(names)))
    return list(out.values())


@dataclass(frozen=True)
class SourceFacts:
    """What a source text holds, for quick membership tests."""

    numbers: frozenset[str]
    units: tuple[tuple[str, str, str], ...]  # (value, unit, as written)
    months: frozenset[str]
    words: frozenset[str]
    places: frozenset[str]
    parties: tuple[str, ...]
    text: str

    @classmethod
    def of(cls, text: str) -> SourceFacts:
        fs = facts(text)
        numbers = {f.value for f in fs if f.kind == "number"}
        months = {f.value for f in fs if f.kind == "month"}
        for w in _TOKEN.findall(text.lower()):  # "Sept." and "Dec" count as months too
            if w in _MONTH_ABBR:
                months.add(str(_MONTH_ABBR[w]))
        # A note's "EBL" backs a sentence's "estimated blood loss", and the other way round.
        words = frozenset(_TOKEN.findall(expand(text).lower()))
        places = frozenset(w for w in words if w in _PLACES)
        parties = tuple(f.text for f in fs if f.kind == "party")
        units = tuple((f.value, f.unit, f.text) for f in globals()["numbers"](text) if f.unit)
        return cls(frozenset(numbers), units, frozenset(months), words, places, parties, text)

    def has(self, f: Fact) -> bool:
        if f.kind == "number":
            return f.value in self.numbers
        if f.kind == "month":
            return f.value in self.months
        return all(w in self.words for w in _TOKEN.findall(f.value))

    def rival(self, f: Fact) -> str:
        """What the source says in place of a fact it lacks ("" when it says nothing of the kind)."""
        if f.kind == "place":
            others = sorted(self.places - set(_TOKEN.findall(f.value)))
            return ", ".join(w.title() for w in others[:2])
        if f.kind == "party":
            return "; ".join(dict.fromkeys(self.parties))[:120]
        if f.kind == "number" and f.unit:
            said = [f"{raw} {plural(unit, value)}" for value, unit, raw in self.units
                    if unit == f.unit and value != f.value]
            return ", ".join(dict.fromkeys(said[:3]))
        if f.kind == "number" and _YEAR.fullmatch(f.value):
            years = sorted(v for v in self.numbers if _YEAR.fullmatch(v) and v != f.value)
            return ", ".join(years[:3])
        return ""


def plural(unit: str, value: str) -> str:
    return unit if value == "1" or unit == "percent" else unit + "s"
