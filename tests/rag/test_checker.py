"""The sentence checker on hand-made cases: a changed number, party or place is caught,
a faithful paraphrase passes, and what no source says is marked."""

from __future__ import annotations

import pytest

from rag.ask.checker import check_answer
from rag.ask.facts import facts
from rag.types import Support

LAW = ("12.3 This Agreement shall be governed by and construed in accordance with the laws of "
       "the State of Delaware, without regard to its conflicts of law principles.")
TERM = ("Either party may terminate this Agreement upon thirty (30) days' prior written notice. "
        "The initial term ends on December 31, 2019. Acme Labs, Inc. shall pay Widget Corp. a "
        "royalty of 5% of Net Sales, up to $1,500,000 per year.")
SOURCES = {1: LAW, 2: TERM}


def verdict(sentence: str) -> tuple[Support, tuple[int, ...], str]:
    (check,) = check_answer(sentence, SOURCES)
    return check.verdict, check.sources, check.reason


@pytest.mark.parametrize("sentence", [
    "The contract is governed by Delaware law [1].",  # a paraphrase
    "Either party may terminate on thirty days' written notice [2].",  # words for digits
    "Either party may end it with 30 days' prior written notice [2].",
    "Acme Labs pays Widget a royalty of 5% of net sales [2].",  # short party names
    "Royalties are capped at $1,500,000 per year [2].",
    "The initial term ends on December 31, 2019 [2].",
])
def test_faithful_sentences_are_supported(sentence: str) -> None:
    assert verdict(sentence)[0] is Support.SUPPORTED


@pytest.mark.parametrize(("sentence", "says"), [
    ("Either party may terminate on 60 days' notice [2].", "thirty"),  # a changed number
    ("The initial term ends on December 31, 2020 [2].", "2019"),  # a changed year
    ("The contract is governed by the laws of New York [1].", "Delaware"),  # a changed place
    ("Orion Robotics, Inc. pays Widget a royalty of 5% of net sales [2].", "Acme"),  # a changed party
    ("Acme pays a royalty of 7% of net sales [2].", "5"),
])
def test_changed_facts_are_contradicted(sentence: str, says: str) -> None:
    v, sources, reason = verdict(sentence)
    assert v is Support.CONTRADICTED and sources == (2,) or sources == (1,)
    assert says in reason


def test_claims_no_source_makes_are_unsupported() -> None:
    v, sources, reason = verdict("The patient was prescribed 10,000 units of metformin at discharge.")
    assert v is Support.UNSUPPORTED and sources == () and "not found in the sources" in reason
    # Cited, but the cited source says nothing of the kind.
    assert verdict("The supplier must carry product liability insurance [1].")[0] is Support.UNSUPPORTED


def test_a_correct_claim_with_the_wrong_number_is_re_sourced() -> None:
    v, sources, _reason = verdict("The agreement is governed by the laws of the State of Delaware [2].")
    assert v is Support.SUPPORTED and sources == (1,)


def test_declining_is_not_a_claim_and_yes_is_not_checked() -> None:
    assert verdict("The documents do not state the insurance requirements.")[0] is Support.SUPPORTED
    assert check_answer("The documents do not say.", SOURCES) == []
    assert check_answer("Yes.", SOURCES) == []


def test_sentences_and_offsets() -> None:
    text = "Yes. It is governed by Delaware law. [1]\n- Termination needs 30 days' notice [2]"
    checks = check_answer(text, SOURCES)
    assert [c.verdict for c in checks] == [Support.SUPPORTED, Support.SUPPORTED]
    for c in checks:
        assert text[c.start : c.end] == c.text
    assert checks[0].text.endswith("[1]")


def test_facts_are_normalised() -> None:
    got = {(f.kind, f.value, f.unit) for f in facts("Pay $1,500,000.00 within thirty (30) days of March 3, 2020 in New York.")}
    assert {("number", "1500000", ""), ("number", "30", "day"), ("number", "2020", ""),
            ("month", "3", ""), ("place", "york", "")} <= got


def test_a_number_found_in_another_clause_does_not_excuse_a_contradiction() -> None:
    sources = {1: "PivX may terminate this Agreement upon thirty (30) days' written notice to Detto.",
               2: "Detto shall pay each invoice within 10 days of receipt of notice."}
    for sentence in ["PivX may terminate the agreement with 10 days' notice.",
                     "PivX may terminate the agreement with 10 days' notice [1]."]:
        (check,) = check_answer(sentence, sources)
        assert check.verdict is Support.CONTRADICTED and check.sources == (1,), check
        assert "thirty days" in check.reason


# -- numbers that only number a clause, and answers that do not say what they answer ----
HANDBOOK = ("12. PROCEDURES\n12.1 A copy of the Company's disciplinary, dismissal and grievance "
            "procedures are set out in its employee handbook")


def test_a_clause_number_answers_nothing() -> None:
    # The held-out case: "How many vacation days does the employee handbook allow per year?"
    for answer_text in ["12.", "12 [1].", "12"]:
        checks = check_answer(answer_text, {1: HANDBOOK})
        assert [c.verdict for c in checks] == [Support.UNSUPPORTED], (answer_text, checks)
    # With words that the clause does hold, "12" is still only its number.
    (check,) = check_answer("The employee handbook sets out 12 grievance procedures [1].", {1: HANDBOOK})
    assert check.verdict is Support.UNSUPPORTED and "12" in check.reason


@pytest.mark.parametrize("source", [
    "Section 12 of the employee handbook sets out the grievance procedures.",
    "The grievance procedures are set out in clause 12 of the employee handbook.",
    "The grievance procedures are in the employee handbook, page 12.",
    "(12) the employee handbook sets out the grievance procedures",
    "- 12 -\nThe employee handbook sets out the grievance procedures.",
])
def test_section_page_and_list_numbers_support_nothing(source: str) -> None:
    (check,) = check_answer("The employee handbook sets out 12 grievance procedures [1].", {1: source})
    assert check.verdict is Support.UNSUPPORTED, (source, check)


def test_a_number_the_source_states_still_supports() -> None:
    source = "12.1 Each employee is entitled to 12 days of paid vacation per year under the employee handbook."
    (check,) = check_answer("The employee handbook allows 12 days of paid vacation per year [1].", {1: source})
    assert check.verdict is Support.SUPPORTED
    # A clause reference in the answer is not a claim about amounts.
    (check,) = check_answer("Clause 12.1 gives each employee 12 days of paid vacation [1].", {1: source})
    assert check.verdict is Support.SUPPORTED


@pytest.mark.parametrize("answer_text", ["12.", "Yes.", "No [1].", "$1,500,000.", "30 [2]", "Yes, 30 [2]."])
def test_a_bare_value_is_never_supported(answer_text: str) -> None:
    assert all(c.verdict is not Support.SUPPORTED for c in check_answer(answer_text, SOURCES))
