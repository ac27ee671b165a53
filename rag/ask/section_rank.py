"""A question about a section's subject ranks that section first.

"Were there any complications?" is answered by the note's "COMPLICATIONS: None.", a
passage of its own (:mod:`rag.ingest.sections`), yet ranks below the consent paragraph
that mentions the risks of complications three times. A passage of a clinical report whose
section is the one asked for (:func:`rag.ask.clinical_terms.answers`) is moved ahead: first
among its document's passages when the question names the document, and ahead of equally
matching passages otherwise. Only clinical headings count ("Operative note > Procedure"):
a contract's "Procedures" clause is left where it ranks.
"""

from __future__ import annotations

from collections.abc import Mapping

from rag.ask.clinical_terms import answers, asked_subjects
from rag.ingest.sections import REPORT_KINDS

NAMED_BONUS = 1.0  # a named document's scores are within 1 of each other: its section goes first
OPEN_BONUS = 0.02  # about a top rank's reciprocal-rank score (2 / 61): ahead of near equals


def section_bonus(question: str, headings: Mapping[int, str], doc_of: Mapping[int, int],
                  named: Mapping[int, float]) -> dict[int, float]:
    """chunk id -> what to add to its score, for passages of the sections asked for."""
    subjects = asked_subjects(question)
    if not subjects:
        return {}
    out = {}
    for cid, heading in headings.items():
        kind = heading.split(" > ", 1)[0].lower()
        if kind in REPORT_KINDS and answers(heading, subjects):
            out[cid] = NAMED_BONUS if doc_of[cid] in named else OPEN_BONUS
    return out
