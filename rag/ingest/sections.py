"""Clinical sections: "ALLERGIES:", "Estimated Blood Loss:", "IMPRESSION/PLAN:" as headings.

A clinical note is a run of labelled sections, each a paragraph or a line that opens with
its label ("ANESTHESIA: General endotracheal.", "Complications: None."). The answer to a
reviewer's question is usually one whole section, often a few words long, so a passage
must never bury a short section among its neighbours: in a clinical document every
section starts a passage of its own, and the label becomes the passage's heading path and
location ("Operative note › Estimated blood loss"), which keyword and vector search read
with its text.

Contracts have labels too ("Governing Law: ..."), so a document is read this way only
when several of its labels are ones clinical notes use (:data:`CLINICAL_LABELS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.types import Anchor, ParsedDocument

# Words that clinical section labels are made of (MTSamples, HL7 C-CDA section names).
CLINICAL_LABELS = frozenset(
    """allergies allergy medications medication meds anesthesia complications complication diagnosis
    diagnoses preoperative postoperative pre-operative post-operative procedure procedures operation
    operations indications indication findings impression plan assessment history specimen specimens
    pathology ebl estimated blood loss fluids drains disposition condition examination exam review systems
    chief complaint hpi vitals vital signs laboratory labs course discharge admission consultation
    reason recommendations technique description details sedation""".split()
)
MIN_LABELS = 2  # distinct clinical labels a document must use to be read as a clinical note

_CAPS_LABEL = r"[A-Z][A-Z0-9/&,()'\- ]{1,58}[A-Z)]"
_TITLE_LABEL = r"[A-Z][a-z]+(?:[ /-](?:[A-Z][a-z]+|of|and|or|for|to|the|on|at|&))*"
# A label opening a line ("EBL:", "Estimated Blood Loss:"), or in capitals after a sentence
# ("... cystolithalopaxy. POSTOPERATIVE DIAGNOSES: ..."): the colon is what makes it one.
_AT_LINE = re.compile(rf"^[^\S\n]*(?P<label>{_CAPS_LABEL}|[A-Z]{{2,}}|{_TITLE_LABEL})[^\S\n]*:(?=\s|,|$)", re.M)
_INLINE = re.compile(rf"(?<=[.;][^\S\n])[^\S\n]*(?P<label>{_CAPS_LABEL})[^\S\n]*:(?=\s|,)")
_WORDS = re.compile(r"[A-Za-z]+")
MAX_LABEL_WORDS = 6


@dataclass(frozen=True)
class Section:
    start: int  # where its label starts in the page text
    label: str  # as a heading: "Estimated blood loss"


def label_words(label: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(label)]


def _is_clinical_label(label: str) -> bool:
    return any(w in CLINICAL_LABELS for w in label_words(label))


def find_sections(text: str) -> list[Section]:
    """The section labels of a page, in order."""
    found: dict[int, str] = {}
    for rx in (_AT_LINE, _INLINE):
        for m in rx.finditer(text):
            label = " ".join(m.group("label").split())
            if len(label.split()) > MAX_LABEL_WORDS or sum(c.isalpha() for c in label) < 2:
                continue
            found.setdefault(m.start("label"), label)
    return [Section(at, heading_text(label)) for at, label in sorted(found.items())]


def heading_text(label: str) -> str:
    """"ESTIMATED BLOOD LOSS" -> "Estimated blood loss"; short capitals ("EBL", "HPI") stay."""
    if label.isupper() and len(label) <= 4:
        return label
    return label[:1].upper() + label[1:].lower() if label.isupper() else label


def is_clinical_text(text: str) -> bool:
    """Whether text reads as a clinical note: several labels that clinical notes use."""
    labels = {s.label.lower() for s in find_sections(text) if _is_clinical_label(s.label)}
    return len(labels) >= MIN_LABELS


def is_clinical(doc: ParsedDocument) -> bool:
    return is_clinical_text("\n".join(p.text for p in doc.pages[:3]))


_KINDS = (
    ("discharge summary", re.compile(r"\bdischarge (?:summary|diagnos[ie]s)\b", re.I)),
    ("operative note", re.compile(r"^\s*(?:pre-?operative diagnos|post-?operative diagnos|anesthesia|"
                                  r"procedures? performed|operations? performed|estimated blood loss)", re.I | re.M)),
    ("consult", re.compile(r"\bconsult(?:ation)?\b", re.I)),
    ("imaging report", re.compile(r"\b(?:ultrasound|sonogram|x-?ray|radiograph|ct scan|mri|"
                                  r"mammogra\w*|ct (?:of|abdomen|chest|head))\b", re.I)),
    ("lab report", re.compile(r"\b(?:laboratory report|lab(?:oratory)? results|reference range)\b", re.I)),
    ("clinic letter", re.compile(r"^\s*dear\b", re.I | re.M)),
)


REPORT_KINDS = frozenset([*(k for k, _rx in _KINDS), "clinic note"])


def report_kind(title: str, text: str) -> str:
    """What kind of clinical report this is, from its title first, then its sections."""
    for kind, rx in _KINDS:
        if rx.search(title):
            return kind
    for kind, rx in _KINDS:
        if rx.search(text[:6000]):
            return kind
    return "clinic note"


def with_sections(doc: ParsedDocument, kind: str) -> ParsedDocument:
    """The document with each anchor located by the section it falls in ("Operative note ›
    Allergies ¶ 6"), so that a passage's location names its section."""
    head = kind[:1].upper() + kind[1:]
    pages = []
    for page in doc.pages:
        secs = find_sections(page.text)
        if page.anchors and page.anchors[0].unit == "line":
            # Plain text is located by line: each section is an anchor of its own.
            first = page.anchors[0].n - page.text.count("\n", 0, page.anchors[0].offset)
            lines = [Anchor(0, head, "line", first)] if not secs or secs[0].start > 0 else []
            lines += [Anchor(s.start, f"{head} › {s.label}", "line", first + page.text.count("\n", 0, s.start))
                      for s in secs]
            pages.append(replace(page, anchors=tuple(lines)))
            continue
        anchors = []
        for a in page.anchors or (Anchor(0, ""),):
            inside = [s.label for s in secs if s.start <= a.offset + 2]  # an anchor opens its paragraph
            context = f"{head} › {inside[-1]}" if inside else head
            anchors.append(replace(a, context=context))
        pages.append(replace(page, anchors=tuple(anchors)))
    return replace(doc, pages=pages)
