"""What a document calls itself and who it binds: its profile, read once at ingest.

Contracts state their title, their parties, the short names the parties go by and their
date on the first page or two ("This SUPPLY AGREEMENT is made as of May 9, 2019 between
Acme Labs, Inc., a Delaware corporation ("Acme"), and ..."). People name a document by
exactly those things, so the document finder (:mod:`rag.ask.scope`) matches questions
against them. Reading them at ingest, rather than guessing at query time, keeps searching
fast and lets a library list who each contract is with.

The extraction is heuristic and errs towards keeping too much: a stray capitalised word
among the parties costs little, because the finder weights words by how rare they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rag.ingest.clinical_profile import read_clinical
from rag.ingest.sections import is_clinical_text

PROFILE_VERSION = 6  # raise when extraction changes: stored profiles are then read again
HEAD_CHARS = 4000  # the first page or two: where contracts name themselves and their parties

_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "\u00a0": " "})
_SUFFIXES = (
    r"Inc|Incorporated|Corp|Corporation|LLC|L\.L\.C|Ltd|Limited|Company|Co|plc|PLC|LLP|LP|"
    r"L\.P|GmbH|AG|S\.A|SA|S\.p\.A|N\.V|B\.V|Pte|Pty|AB|KK|Trust|Bank|Partnership|"
    r"INC|INCORPORATED|CORP|CORPORATION|LTD|LIMITED|COMPANY|CO|TRUST|BANK|PARTNERSHIP"
)
# A run of capitalised words (names may hold "&", "of", "and" and initials) ending in a
# corporate suffix: "Florida Chemical Company, LLC", "Tate & Lyle PLC".
_NAME_WORD = r"(?:[A-Z0-9][\w&.'/-]*|&|of|and|de|du|der)"
_COMPANY = re.compile(
    rf"\b((?:[A-Z][\w&.'/-]*)(?:[ \t]+{_NAME_WORD}){{0,7}}?,?[ \t]+(?:{_SUFFIXES})\b\.?"
    rf"(?:,?[ \t]+(?:{_SUFFIXES})\b\.?)?)"
)
# A parenthesis defining short names: ("Acme"), (the "Manufacturer"), (hereinafter
# referred to as "FCC"), (the "Company" or "RCP"), ("Cellco", "Servicer").
_DEFINES = re.compile(
    r"\(\s*((?:(?:the|each|a|an|hereinafter|referred|to|as|collectively|individually|together|"
    r"with|called|and|or|,)\s+)*\"[^()]{2,160})\)"
)
_SUFFIX_ONLY = re.compile(rf"^(?:{_SUFFIXES})\.?$")
_QUOTED = re.compile(r"\"([^\"()]{2,40})\"")
# Defined terms that name the paper or its clauses, never a party.
_NOT_PARTIES = re.compile(
    r"^(?:this\s+)?(?:agreement|contract|effective date|term|parties|party|exhibit|schedule|"
    r"territory|products?|services?|affiliates?|confidential information|amendment|"
    r"you|your|we|us|our)\b",
    re.I,
)
# The name a short name stands for: the capitalised run after "between", "and", "by"...
# and before its description ("Bizzingo, Inc., a Nevada corporation with offices at ...").
_NAME_AFTER = re.compile(
    r"(?:\b(?:between|and|by|with|among|to)\s+|^\W*)"
    r"((?:[A-Z0-9][\w&.'/-]*,?\s+(?:(?:of|and|&|de|du)\s+)?){0,7}[A-Z][\w&.'/-]*\.?)"
)
# A cover page: "BETWEEN / XIMAGE / AND / SAGEM S.A." on lines of their own.
_COVER = re.compile(r"\bbetween\s*\n\s*([^\n]{2,80}?)\s*\n\s*and\s*\n\s*([^\n]{2,80})", re.I)
_TITLE_WORDS = re.compile(
    r"\b(?:agreement|contract|license|licence|amendment|addendum|lease|deed|memorandum|"
    r"terms|charter|plan|letter|undertaking|guarantee|note|indenture)\b",
    re.I,
)
# "a Delaware corporation", "the Company": a description of a party, not its name.
_ARTICLE_BEFORE = re.compile(r"\b(?:an?|the|The)\s+$")
# Where the parties have been introduced and the body begins: short names defined after it
# stand for clauses and things ("Annual Minimum Commitment" ("AMC")), not for parties.
_BODY_START = re.compile(
    r"\b(?:WHEREAS|RECITALS|BACKGROUND|NOW,? THEREFORE|W ?I ?T ?N ?E ?S ?S ?E ?T ?H|ARTICLE (?:1|I)\b|"
    r"1\.\s*DEFINITIONS|Definitions\.)"
)
PREAMBLE_CHARS = 2500
_JOINS = re.compile(r"(?:^|\s)(?:of|and|to|for|on)(?:\s|$)", re.I)  # a line that runs on
_NUMBERED = re.compile(r"^\(?\d+(?:\.\d+)*[.)]?\s")  # "2. The agreement and order": a clause
_AGREEMENT = re.compile(r"\bagreement\b", re.I)
_AMENDED = re.compile(r"\b(?:that certain|the)\s+(?:fully executed\s+)?((?:[A-Z][\w-]*\s+){1,6}Agreement(?:\s+(?:Number|No\.?)\s+\w+)?)")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")


@dataclass(frozen=True)
class DocProfile:
    title: str = ""
    parties: tuple[str, ...] = ()  # as written: "Acme Labs, Inc."
    aliases: tuple[str, ...] = ()  # defined short names: "Acme", "Manufacturer"
    years: tuple[str, ...] = ()  # "2019"
    # A clinical report's (rag/ingest/clinical_profile.py); empty for other documents.
    kind: str = ""  # "operative note", "consult", "discharge summary", ...
    specialty: str = ""
    procedures: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()  # of service, as written in the record
    patient: str = ""  # patient identifiers stay in the encrypted manifest with the text
    dob: str = ""
    record: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> DocProfile:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
        except ValueError:
            return cls()
        return cls(
            str(raw.get("title", "")),
            tuple(str(x) for x in raw.get("parties", ())),
            tuple(str(x) for x in raw.get("aliases", ())),
            tuple(str(x) for x in raw.get("years", ())),
            str(raw.get("kind", "")),
            str(raw.get("specialty", "")),
            tuple(str(x) for x in raw.get("procedures", ())),
            tuple(str(x) for x in raw.get("dates", ())),
            str(raw.get("patient", "")),
            str(raw.get("dob", "")),
            str(raw.get("record", "")),
        )

    def naming_text(self) -> str:
        """Everything that names the document, as one text to match words against."""
        return " ".join([self.title, *self.parties, *self.aliases, *self.years, *self.clinical_names()])

    def clinical_names(self) -> list[str]:
        """The names a clinical report also goes by: its kind with its title ("consult
        Laparoscopic Gastric Bypass Consult - 2"), each procedure with the kind, its dates,
        its patient. A specialty alone names no report: it joins the kind."""
        if not self.kind:
            return []
        kind = f"{self.specialty} {self.kind}".strip()
        return [f"{kind} {self.title}", *(f"{self.kind} {p}" for p in self.procedures),
                *(f"{self.kind} {d}" for d in self.dates), self.patient, self.record]


def extract_profile(pages: Sequence[str], title: str = "", name: str = "") -> DocProfile:
    """Read title, parties, short names and years from a document's first pages.

    ``title`` is what the parser found (often the PDF's metadata, often empty or junk);
    ``name`` the file's name, whose dates count too.
    """
    head = ""
    for p in pages:
        head += p + "\n"
        if len(head) >= HEAD_CHARS:
            break
    head = head[:HEAD_CHARS].translate(_QUOTES)
    if is_clinical_text(head):
        # A clinical report names no parties: its capitalised words are drugs and diagnoses.
        c = read_clinical(head)
        years = _dedupe(_YEAR.findall(name) + [y for d in c.dates for y in _YEAR.findall(d)])[:4]
        return DocProfile(c.title or title.strip(), (), (), tuple(years), c.kind, c.specialty, c.procedures,
                          c.dates, c.patient, c.dob, c.record)
    flat = re.sub(r"\s+", " ", head)
    aliases, alias_parties = _aliases(_preamble(flat))
    companies = [m.group(1).strip(" ,") for m in _COMPANY.finditer(flat)
                 if not _ARTICLE_BEFORE.search(flat, max(0, m.start() - 5), m.start())]
    parties = _dedupe([*_cover_parties(head), *alias_parties, *companies])
    years = _dedupe(_YEAR.findall(name) + _YEAR.findall(flat))[:4]
    return DocProfile(_title(head) or title.strip(), tuple(parties[:12]), tuple(aliases[:12]), tuple(years))


def _preamble(flat: str) -> str:
    m = _BODY_START.search(flat, 40)  # not a heading at the very top
    return flat[: min(m.start(), PREAMBLE_CHARS)] if m else flat[:PREAMBLE_CHARS]


def _aliases(flat: str) -> tuple[list[str], list[str]]:
    """Defined short names, and the names each was defined for."""
    aliases: list[str] = []
    named: list[str] = []
    since = 0  # a name is looked for after the previous definition, not before it
    for m in _DEFINES.finditer(flat):
        short = [a.strip(" ,.") for a in _QUOTED.findall(m.group(1))]
        short = [a for a in short if a and not _NOT_PARTIES.match(a)]
        window = flat[max(since, m.start() - 300) : m.start()]
        since = m.end()
        if not short:
            continue
        aliases += short
        who = _NAME_AFTER.search(window)
        name = _trim_name(who.group(1)) if who else ""
        if len(name) > 2 and not _NOT_PARTIES.match(name):
            named.append(name)
    return _dedupe(aliases), named


def _trim_name(name: str) -> str:
    """A name ends where its address begins: "Celebrity Speakers of 90 High Street, Burnham"
    -> "Celebrity Speakers"; commas only go before a company suffix ("Acme, Inc.")."""
    parts = name.split(", ")
    kept = [parts[0]] + [p for p in parts[1:] if _SUFFIX_ONLY.match(p)]
    words: list[str] = []
    for w in ", ".join(kept).split():
        if words and w[0].isdigit():
            break
        words.append(w)
    while words and words[-1] in ("of", "and", "&", "de", "du"):
        words.pop()
    return " ".join(words).strip(" ,")


def _cover_parties(head: str) -> list[str]:
    out = []
    for m in _COVER.finditer(head):
        for name in (m.group(1).strip(" ,"), m.group(2).strip(" ,")):
            words = name.split()
            # Names on a cover page are capitalised throughout; a sentence is not.
            if len(words) <= 8 and all(w[0].isupper() or w[0].isdigit() or w in ("of", "and", "&")
                                       for w in words):
                out.append(name)
    return out


def _title(head: str) -> str:
    """The first short line near the top that names a kind of document: an agreement if
    there is one ("Contract No.: 1200166" is a reference above the title, not the title).
    An amendment is titled after the agreement it amends, as people name it."""
    lines = [x for x in (re.sub(r"\s+", " ", y).strip(" .:*-_") for y in head.splitlines()[:40]) if x]
    headings = [i for i, x in enumerate(lines)
                if 6 <= len(x) <= 120 and _TITLE_WORDS.search(x) and _heading_like(x) and not _NUMBERED.match(x)]
    if not headings:
        return ""
    at = next((i for i in headings if _AGREEMENT.search(lines[i])), headings[0])
    title = lines[at]
    # A title set over several lines: "AMENDMENT AND TERMINATION / OF / JOINT VENTURE AGREEMENT".
    while at > 0 and _continues_title(lines[at - 1]) and (
        _JOINS.search(lines[at - 1]) or _JOINS.match(title)
    ):
        at -= 1
        title = f"{lines[at]} {title}"
    if title.lower().startswith("amendment") and not _AGREEMENT.search(title):
        amended = _AMENDED.search(re.sub(r"\s+", " ", head[:1500]))
        if amended:
            title = f"{title} {amended.group(1)}"
    return title


def _continues_title(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return (len(line.split()) <= 6 and not any(c.isdigit() for c in line) and bool(letters)
            and all(c.isupper() for c in letters) and not line.lower().startswith("exhibit"))


def _heading_like(line: str) -> bool:
    # A heading is in capitals or short; a sentence mentioning an agreement is neither.
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and (sum(c.isupper() for c in letters) >= 0.6 * len(letters) or len(line.split()) <= 8)


def _dedupe(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for x in items:
        key = x.lower()
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out
