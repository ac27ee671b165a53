"""Questions in plain words find the clause written in legal words (issue 23).

Real Chroma, real embedder: what is pinned is what a user sees, a question that shares no
content word with its clause finding it, and an expansion term never ranking a passage
above one that holds the words the user typed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.ask.expansion import ExpansionTerm, expand_question, keyword_text
from rag.ask.lexicon import Lexicon
from rag.ask.retrieval import RetrievalConfig
from rag.library import Library
from rag.text import keywords, stem
from tests.bench.plain_questions import PLAIN, PLAIN_FRESH

pytestmark = pytest.mark.slow

FILLER = (
    "The parties shall cooperate in good faith and keep each other fully informed of "
    "their activities under this section, and each shall bear its own costs in doing so. "
)
CONTRACT = {
    "1. Definitions": "Capitalised words have the meanings given to them in Schedule A. ",
    "2. Supply of Products": "Supplier shall manufacture and deliver the Products to Distributor "
    "in accordance with the purchase orders accepted under this Agreement. ",
    "3. Fees and Payment": "Distributor shall pay each invoice within thirty (30) days of its date. ",
    "4. Termination for Convenience": "Either party may terminate this Agreement for convenience "
    "upon ninety (90) days' prior written notice to the other party. ",
    "5. Governing Law": "This Agreement is governed by the laws of the State of Delaware. ",
    "6. Confidentiality": "Each party shall hold the Confidential Information of the other in "
    "confidence and use it only to perform this Agreement. ",
    # Near misses: about leaving or stopping, in other words than the question's.
    "7. Excused Performance": "A party is excused from performing while it is prevented by "
    "events beyond its control, and shall resume performance when they end. ",
    "8. Representatives": "Either party may replace its representative on the steering committee "
    "at any time by notice, and the new representative takes office at once. ",
}
QUESTION = "Can we walk away from the deal without giving a reason?"


@pytest.fixture
def contract_library(tmp_path: Path, embedder: object) -> Library:
    text = "SUPPLY AGREEMENT\n\n" + "\n\n".join(
        f"{heading}\n{body}{FILLER * 4}" for heading, body in CONTRACT.items())
    path = tmp_path / "supply-agreement.txt"
    path.write_text(text, encoding="utf-8")
    lib = Library(tmp_path / "lib", embedder)  # type: ignore[arg-type]
    lib.ingest([path])
    return lib


def test_the_question_shares_no_content_word_with_its_clause() -> None:
    clause = " ".join(["Termination for Convenience", CONTRACT["4. Termination for Convenience"]])
    asked = {stem(w) for w in keywords(QUESTION)}
    assert asked.isdisjoint(stem(w) for w in keywords(clause))


def test_a_plain_question_finds_its_clause(contract_library: Library) -> None:
    top = contract_library.search(QUESTION, k=3)
    assert top and "terminate this Agreement for convenience" in top[0].text


def test_keywords_find_the_clause_only_through_the_lexicon(contract_library: Library) -> None:
    """The user's own words find nothing in the clause; the lexicon's terms rank it first."""
    manifest = contract_library.manifest
    clause = {c for c, _ in manifest.keyword_search("convenience", 10)}
    assert clause and not clause & {c for c, _ in manifest.keyword_search(QUESTION, 10)}
    terms = expand_question(QUESTION, contract_library.retriever.expanders)
    found = manifest.keyword_search(keyword_text(terms, QUESTION), 10)
    contract_library.close()
    assert found and found[0][0] in clause


def test_an_expansion_term_never_outranks_the_users_own_words(tmp_path: Path, embedder: object) -> None:
    """Two passages, alike but for one word: the one with the word the user typed ("cancel")
    ranks above the one with the lexicon's term for it ("terminate")."""
    body = ("{word} Either party may {word} the arrangement upon written notice of sixty days, "
            "and the obligations accrued before that date remain in force. ")
    pages = []
    for heading, word in (("7. Ending the Arrangement", "terminate"), ("8. Calling Off the Arrangement", "cancel")):
        pages.append(f"{heading}\n{body.format(word=word)}{FILLER * 3}")
    path = tmp_path / "terms.txt"
    path.write_text("TERMS\n\n" + "\n\n".join(pages), encoding="utf-8")
    lib = Library(tmp_path / "lib2", embedder)  # type: ignore[arg-type]
    try:
        lib.ingest([path])
        question = "can they cancel?"
        assert any(t.text == "terminate" for t in Lexicon.load().expand(question))
        top = lib.search(question, k=2)
        assert "may cancel" in top[0].text and "may terminate" in top[1].text
        # The expansion list holds only what the user did not say.
        terms = expand_question(question, [Lexicon.load()])
        assert "cancel" not in keyword_text(terms, question).split()
    finally:
        lib.close()


def test_expansion_weight_stays_below_the_users_words() -> None:
    cfg = RetrievalConfig()
    assert cfg.expansion_weight < cfg.keyword_weight
    assert cfg.doc_expansion_weight < cfg.doc_keyword_weight
    assert all(t.weight < 1.0 for t in Lexicon.load().expand(QUESTION))


def test_terms_the_question_already_holds_are_not_added_again() -> None:
    class Fixed:
        def expand(self, question: str) -> list[ExpansionTerm]:
            return [ExpansionTerm("terminate", 0.5, "t"), ExpansionTerm("termination", 0.4, "t"),
                    ExpansionTerm("convenience", 0.3, "t"), ExpansionTerm("convenience", 0.6, "u")]

    terms = expand_question("may we terminate early?", [Fixed()])
    assert [(t.text, t.weight) for t in terms] == [("convenience", 0.6), ("termination", 0.4)]


def test_cues_match_whole_words_and_spans() -> None:
    lex = Lexicon.load()
    # A lone * spans the document's name; word* any ending; a cue is never part of a word.
    assert "assignment" in {c.id for c in lex.concepts_in(
        "Can one side hand the supply agreement with Acme over to another company?")}
    assert "no-solicit-employees" in {c.id for c in lex.concepts_in("are they poaching our engineers")}
    assert "termination-convenience" not in {c.id for c in lex.concepts_in("what is the exit-fee?")}
    # The legal wording needs no expansion.
    assert lex.concepts_in("What is the governing law for this contract?") == []


def test_benchmark_wordings_avoid_their_clause_names() -> None:
    """tests/bench/plain_questions.py: no wording uses a word of its category's legal list."""
    for category, (wordings, legal) in PLAIN.items():
        banned = {stem(w) for w in re.findall(r"[a-z]+", legal.lower())}
        assert len(wordings) >= 2, category
        for wording in (*wordings, PLAIN_FRESH[category]):
            used = {stem(w) for w in re.findall(r"[a-z]+", wording.lower().replace("{doc}", ""))}
            assert not used & banned, (category, wording, used & banned)
