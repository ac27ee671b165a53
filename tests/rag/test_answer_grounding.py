"""Citations the model left out: statements matched to a source by wording only."""

from __future__ import annotations

from rag.ask.checker import ground_uncited

LAW = ("Governing Law: This Agreement shall be governed by and interpreted in accordance with the "
       "laws of the State of Florida, without regard to its conflict-of-laws principles.")
TERM = "Term: this agreement begins on April 1, 2018 and lasts 12 months. The fee is 3.5 percent of net sales."


def test_uncited_statement_gets_the_source_that_holds_its_wording() -> None:
    assert ground_uncited("This agreement is governed by the laws of Florida.", [TERM, LAW]) == (
        "This agreement is governed by the laws of Florida [2].")


def test_each_statement_is_matched_on_its_own_and_model_citations_are_kept() -> None:
    text = "The term begins April 1, 2018. It is governed by Florida law [1]."
    assert ground_uncited(text, [LAW, TERM]) == "The term begins April 1, 2018 [2]. It is governed by Florida law [1]."


def test_lines_without_full_stops_and_decimals() -> None:
    assert ground_uncited("- Florida law governs\n- The fee is 3.5 percent of sales", [LAW, TERM]) == (
        "- Florida law governs [1]\n- The fee is 3.5 percent of sales [2]")


def test_no_citation_without_strong_evidence() -> None:
    for text in ("Yes.", "The documents do not say.", "The parties must arbitrate disputes in Texas.",
                 "Either party may terminate for convenience on thirty days notice."):
        assert ground_uncited(text, [LAW, TERM]) == text
    assert ground_uncited("Florida law governs.", []) == "Florida law governs."


def test_a_bare_yes_or_no_is_never_the_whole_answer() -> None:
    from rag.ask.answer import NOT_FOUND, NOT_STATED, settle

    question = "Do the licensor's affiliates have any licensing rights under this contract?"
    quotes = ["a quote"]  # settle only asks whether there are any
    assert settle("Yes.", quotes, question) == NOT_STATED  # type: ignore[arg-type]
    assert settle("No [2].", quotes, question) == NOT_STATED  # type: ignore[arg-type]
    assert settle("Yes, the licensor's affiliates have licensing rights.", quotes, question) == NOT_STATED  # type: ignore[arg-type]
    assert settle("", [], question) == NOT_FOUND
    kept = "Yes, affiliates may use the Licensed Marks in Canada [1]."
    assert settle(kept, quotes, question) == kept  # type: ignore[arg-type]
