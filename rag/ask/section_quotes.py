"""Short answers quoted whole: a section whose label is what is asked wins the quote.

"COMPLICATIONS: None.", "ALLERGIES: NKDA.", "ESTIMATED BLOOD LOSS: Less than 5 mL." are
complete answers, shorter than any sentence the picker would otherwise prefer, and they
share few words with the question ("Were there any complications?") beyond the label. The
quote picker (:mod:`rag.ask.quotes`) adds :data:`BONUS` to a sentence of a clinical report
that opens with the label asked for, and quotes a labelled statement as it stands, label
and all, rather than widening it into the next section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ask.clinical_terms import answers, asked_subjects
from rag.ingest.sections import REPORT_KINDS, find_sections

BONUS = 1.0  # quote scores are a cosine plus word cover (under ~1.7): the section goes first
_LABEL = re.compile(r"\s*(?P<label>[A-Z][A-Za-z0-9/&,()' -]{1,60}?)\s*:\s*\S")


def label_of(sentence: str) -> str:
    """The section label a sentence opens with ("ALLERGIES: NKDA." -> "ALLERGIES"), or ""."""
    m = _LABEL.match(sentence)
    return m.group("label") if m and len(m.group("label").split()) <= 6 else ""


def is_labelled_answer(sentence: str) -> bool:
    """A label and what it says ("COMPLICATIONS: None."): complete as it stands."""
    return bool(label_of(sentence))


def section_bonus(question: str, sentences: Sequence[tuple[str, str]]) -> list[float]:
    """For each (heading path of its passage, sentence): :data:`BONUS` when it opens the
    section the question asks for, in a clinical report; else 0."""
    subjects = asked_subjects(question)
    if not subjects:
        return [0.0] * len(sentences)
    out = []
    for heading, sentence in sentences:
        clinical = heading.split(" > ", 1)[0].lower() in REPORT_KINDS
        label = label_of(sentence) if clinical else ""
        out.append(BONUS if label and answers(label, subjects) else 0.0)
    return out


def section_bounds(heading: str, text: str, at: int) -> tuple[int, int] | None:
    """The section of a clinical report's page around offset ``at``, from its label to the
    next one: a note typed one line per section has no paragraphs to widen a quote to."""
    if heading.split(" > ", 1)[0].lower() not in REPORT_KINDS:
        return None
    starts = [s.start for s in find_sections(text)]
    before = [s for s in starts if s <= at]
    if not before:
        return None
    after = [s for s in starts if s > at]
    end = after[0] if after else len(text)
    while end > before[-1] and text[end - 1].isspace():
        end -= 1
    return before[-1], end
