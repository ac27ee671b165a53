"""What a clinical report says it is: kind, title, procedures, dates, and whose it is.

Clinicians name a report the way its heading does ("the Laparoscopic Gastric Bypass Consult
- 2", "the operative note for the umbilical hernia repair", "Mr. Doe's discharge summary
of 03/14/2019"), so the document finder (:mod:`rag.ask.scope`) matches questions against
these, with the same rarity weighting as a contract's title and parties. Patient name,
date of birth and record number are kept in the profile, which lives in the encrypted
manifest like the text it was read from; they are never sent anywhere.

Dates stay as written in the record (never re-ordered into another convention); for
matching only, each also gets one token that two spellings of the same day share
(:func:`naming_tokens`): "03/14/2019" and "March 14, 2019" both give ``d20190314``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.sections import find_sections, report_kind

_FIRST_LINE = re.compile(r"^\s*(?:(?P<specialty>[A-Z][\w &/-]{1,40}?)\s+report|[^\n:]{0,40}?)\s*:\s*(?P<title>[^\n]{3,160})")
_PROCEDURE_LABEL = re.compile(r"^(?:procedures?(?: performed)?|operations?(?: performed)?|name of (?:the )?(?:procedure|operation))$", re.I)
_DATE_LABEL = re.compile(r"\bdate\b|\bdos\b|admi(?:tted|ssion)|discharge|procedure", re.I)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_DATE = re.compile(
    rf"\b(?:(?P<m>\d{{1,2}})[/.-](?P<d>\d{{1,2}})[/.-](?P<y>(?:19|20)\d\d)"
    rf"|(?P<mn>{_MONTH})\.?\s+(?P<dn>\d{{1,2}}),?\s+(?P<yn>(?:19|20)\d\d)"
    rf"|(?P<dd>\d{{1,2}})\s+(?P<md>{_MONTH})\.?,?\s+(?P<yd>(?:19|20)\d\d))\b",
    re.I,
)
_PATIENT = re.compile(r"^[^\S\n]*(?:patient(?:'s)?\s+name|patient|name)\s*:\s*(?P<v>[A-Z][\w'.-]+(?:[ ,]+[A-Z][\w'.-]+){0,3})", re.I | re.M)
_DOB = re.compile(r"\b(?:DOB|D\.O\.B\.|date of birth)\s*:?\s*(?P<v>[\d/.-]{6,10}|[A-Z][a-z]+\.? \d{1,2},? \d{4})", re.I)
_RECORD = re.compile(r"\b(?:MRN|medical record (?:number|no\.?|#)|record (?:number|no\.?|#)|chart (?:number|no\.?|#))\s*:?\s*(?P<v>[A-Z0-9-]{3,20})", re.I)
# "Consult - 2", "consult #2", "no. 2", and as people type it, "consult 2" (a number right
# after a word for a kind of report; never four digits: "report 2019" is a year).
_NUMBERED = re.compile(r"(?:\s-\s*|#\s*|\bno\.?\s*|\bnumber\s+|"
                       r"\b(?:consult(?:ation)?|note|report|letter|visit|summary)\s+)(?P<n>\d{1,3})\b", re.I)


@dataclass(frozen=True)
class ClinicalFacts:
    kind: str  # "operative note", "consult", ...
    title: str  # "Laparoscopic Gastric Bypass Consult - 2"
    specialty: str  # "Bariatrics"
    procedures: tuple[str, ...]  # from the procedure section: "Cystopyelogram", "left ureteroscopy"
    dates: tuple[str, ...]  # as written: "03/14/2019"
    patient: str
    dob: str
    record: str


def read_clinical(head: str) -> ClinicalFacts:
    """Kind, title, specialty, procedures, dates of service and patient identifiers of a
    clinical report, from its first page or two (``head``)."""
    first = next((x for x in head.splitlines() if x.strip()), "")
    m = _FIRST_LINE.match(first)
    title = m.group("title").strip() if m else first.strip()[:120]
    specialty = (m.group("specialty") or "").strip() if m else ""
    secs = find_sections(head)
    procedures: list[str] = []
    dates: list[str] = []
    for i, s in enumerate(secs):
        end = secs[i + 1].start if i + 1 < len(secs) else len(head)
        body = head[s.start : end].split(":", 1)[-1].strip(" ,\n")
        if _PROCEDURE_LABEL.match(s.label) and not procedures:
            procedures = [p.strip(" .") for p in re.split(r"[,;]|\s\d+\.\s|\band\b", body[:300]) if 3 <= len(p.strip(" .")) <= 80]
        if _DATE_LABEL.search(s.label):
            dates += [d.group(0) for d in _DATE.finditer(body[:120])]
    dates += [d.group(0) for d in _DATE.finditer(head[:400])]  # a date in the heading lines
    patient = _PATIENT.search(head)
    dob = _DOB.search(head)
    record = _RECORD.search(head)
    born = dob.group("v") if dob else ""
    return ClinicalFacts(
        report_kind(first, head), title, specialty, tuple(procedures[:6]),
        tuple(dict.fromkeys(d for d in dates if d != born))[:4],
        patient.group("v").strip() if patient else "", born, record.group("v") if record else "",
    )


def naming_tokens(text: str) -> list[str]:
    """Extra words that name a report, for the finder only: a report's number ("Consult - 2",
    "consult #2", "no. 2" -> ``n2``) and each date's day (-> ``d20190314``), however written."""
    out = [f"n{int(m.group('n'))}" for m in _NUMBERED.finditer(text)]
    for m in _DATE.finditer(text):
        day = _day(m)
        if day:
            out.append(day)
    return out


def _day(m: re.Match[str]) -> str:
    if m.group("y"):
        a, b, y = int(m.group("m")), int(m.group("d")), m.group("y")
        # Written month first unless that cannot be ("14/03/2019"): the record's own order.
        month, day = (b, a) if a > 12 >= b else (a, b)
    else:
        name = (m.group("mn") or m.group("md")).lower()[:3]
        month = next(i for i, x in enumerate(_MONTHS, 1) if x.startswith(name))
        day, y = int(m.group("dn") or m.group("dd")), m.group("yn") or m.group("yd")
    return f"d{y}{month:02d}{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else ""
