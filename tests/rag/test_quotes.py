"""Verbatim quotes: exact page text, the sentence that answers (not the whole passage),
clause boundaries kept; and the sentence splitter they rest on."""

from __future__ import annotations

from pathlib import Path

from rag.ask.quotes import QuoteConfig, QuotePicker
from rag.ask.sentences import spans
from rag.library import Library
from rag.types import Passage


def test_quotes_are_exact_sentences_that_answer(library: Library, sample_pdf: Path) -> None:
    library.ingest([sample_pdf])
    for question, wording in [
        ("How much notice is needed to terminate for convenience?", "thirty (30) days"),
        ("Which state's law governs the agreement?", "State of Oregon"),
        ("How long do confidentiality obligations survive?", "five (5) years"),
    ]:
        passages = library.search(question, 8)
        quotes, rel = library.quote(question, passages)
        best = quotes[0]
        assert wording in best.text
        page = library.page_text(best.passage.doc_id, best.passage.page)
        assert page[best.start : best.end] == best.text  # exact, with page offsets
        assert len(best.text) < len(best.passage.text)  # the sentence, not the passage
        assert passages[best.n - 1] == best.passage
        assert library.answerable(question, rel)
    q = library.quote("How long do confidentiality obligations survive?",
                      library.search("How long do confidentiality obligations survive?", 8))[0][0]
    assert q.location == "page 2, § 3.3" and q.to_json()["location"] == "page 2, § 3.3"


def test_the_gate_turns_away_what_the_library_cannot_answer(library: Library, sample_pdf: Path) -> None:
    library.ingest([sample_pdf])
    for question in ["What dose of metformin was the patient prescribed at discharge?",
                     "What is the boiling point of ethanol?"]:
        _quotes, rel = library.quote(question, library.search(question, 8))
        assert not library.answerable(question, rel)


def test_spans_respect_clauses_abbreviations_and_wrapped_lines() -> None:
    text = ("12.3 Governing Law. This Agreement shall be governed by the laws of the State of New York, "
            "U.S.A. without regard to conflicts. Acme Inc. agrees that:\n(a) it shall pay the fees; and\n"
            "(b) it shall not assign this\nAgreement without consent.\n\n13. TERM\nThe term is thirty (30) "
            "days. See Sec. 4 hereof.")
    got = [text[a:b] for a, b in spans(text)]
    assert got == [
        "12.3 Governing Law. This Agreement shall be governed by the laws of the State of New York, "
        "U.S.A. without regard to conflicts.",
        "Acme Inc. agrees that:\n(a) it shall pay the fees; and",
        "(b) it shall not assign this\nAgreement without consent.",
        "13. TERM\nThe term is thirty (30) days. See Sec. 4 hereof.",
    ]


def test_a_clause_reaching_into_a_chosen_quote_is_trimmed_not_dropped(embedder) -> None:
    # A long numbered clause: its heading sentence is quoted first (widened to its
    # neighbours); the sentence that states the law lies beyond that quote, and its own
    # clause reaches back into it. It must still be quoted: the part not quoted yet.
    page = ("16.10. Dispute Settlement; Governing Law. Any dispute arising out of this Agreement shall "
            "first be referred to the responsible executives of each party. If they cannot settle it "
            "within thirty (30) days, the dispute shall be finally settled by arbitration in San "
            "Francisco under the rules of the ICC. The arbitral award shall be final and binding upon "
            "the parties. This Agreement shall be governed by the law of California, and the "
            "arbitrators shall apply California law to the merits of any dispute.")
    passage = Passage(doc_id=1, file="supply.pdf", page=1, start=0, end=len(page), text=page,
                      heading="", score=1.0)
    picker = QuotePicker(embedder, lambda _doc, _page: page, QuoteConfig(clause_chars=360, max_chars=2000))
    quotes, _rel = picker.pick("What is the governing law and how are disputes settled?", [passage])
    assert any("governed by the law of California" in q.text for q in quotes)
    ranges = sorted((q.start, q.end) for q in quotes)
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))  # no text quoted twice
    assert all(page[q.start : q.end] == q.text == q.text.strip() for q in quotes)
