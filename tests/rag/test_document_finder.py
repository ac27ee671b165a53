"""Finding the documents a question names, however it names them, on hand-made libraries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from rag.ask.retrieval import group_by_document
from rag.ask.scope import DocumentScorer
from rag.ingest.profiles import DocProfile, extract_profile
from rag.store.manifest import Manifest
from rag.types import Page, ParsedDocument, Passage

CLAUSES = (
    "1. Term. This Agreement lasts {years} years from the Effective Date.\n\n"
    "2. Governing Law. This Agreement is governed by the laws of {state}.\n\n"
    "3. Termination for Convenience. Either party may terminate this Agreement on {days} days notice.\n\n"
    "4. Notices. Notices must be in writing and delivered by hand.\n"
)

# Two supply agreements (same title, different parties) and a distribution agreement whose
# parties go by short names.
CONTRACTS = {
    "acme_supply.txt": (
        "SUPPLY AGREEMENT\n\nThis Supply Agreement is made as of March 3, 2019 between "
        'ACME LABS, INC., a Delaware corporation ("Acme"), and Widget Holdings LLC '
        '(the "Manufacturer").\n\n',
        {"years": "five", "state": "Delaware", "days": "thirty"},
    ),
    "globex_supply.txt": (
        "SUPPLY AGREEMENT\n\nThis Supply Agreement is made as of June 1, 2021 between "
        'Globex Corporation ("Globex") and Initech Ltd. ("Buyer").\n\n',
        {"years": "three", "state": "Texas", "days": "ninety"},
    ),
    "orion_alliance.txt": (
        "STRATEGIC ALLIANCE AGREEMENT\n\nThis Strategic Alliance Agreement is entered into by "
        'Orion Robotics Corporation ("Orion") and Hyperion Dynamics GmbH ("HD").\n\n',
        {"years": "two", "state": "New York", "days": "sixty"},
    ),
}


def _manifest(tmp_path: Path) -> Manifest:
    m = Manifest(tmp_path / "m.sqlite3")
    for name, (opening, fill) in CONTRACTS.items():
        doc = ParsedDocument(pages=[Page(1, opening + CLAUSES.format(**fill))], kind="txt")
        doc_id, _ids, _old = m.begin_document(
            path=f"/x/{name}", name=name, sha256="", size=1, parsed=doc, chunks=[],
            vectors=np.zeros((0, 4), np.float32),
        )
        m.mark_ready(doc_id)
    return m


def _named(m: Manifest, question: str) -> set[str]:
    """File names of the documents the question names, as the retriever would pick them."""
    from rag.ask.retrieval import HybridRetriever

    names = {d: n for d, (n, _p) in m.profiles().items()}
    from rag.store.sqlite_store import SqlCipherStore

    # Finding documents reads profiles and text only: neither an index nor an embedder.
    r = HybridRetriever(SqlCipherStore(m, index=None), embedder=None)  # type: ignore[arg-type]
    return {names[d] for d in r.named_documents(question)}


def test_profile_reads_title_parties_short_names_and_year() -> None:
    opening, fill = CONTRACTS["acme_supply.txt"]
    p = extract_profile([opening + CLAUSES.format(**fill)], "", "acme_supply.txt")
    assert p.title == "SUPPLY AGREEMENT"
    assert "ACME LABS, INC." in p.parties and "Widget Holdings LLC" in p.parties
    assert {"Acme", "Manufacturer"} <= set(p.aliases)
    assert p.years == ("2019",)
    assert DocProfile.from_json(p.to_json()) == p


def test_same_title_different_parties_the_party_decides(tmp_path: Path) -> None:
    m = _manifest(tmp_path)
    assert _named(m, "What is the governing law of the supply agreement with Globex?") == {"globex_supply.txt"}
    assert _named(m, "can the supply agreement with acme labs be terminated for convenience") == {"acme_supply.txt"}
    # The title alone fits both supply agreements: both are preferred, the alliance is not.
    assert _named(m, "What is the term of the supply agreement?") == {"acme_supply.txt", "globex_supply.txt"}
    # A year tells them apart.
    assert _named(m, "what is the term of the 2021 supply agreement") == {"globex_supply.txt"}


def test_a_party_named_only_by_its_short_form_or_without_its_suffix(tmp_path: Path) -> None:
    m = _manifest(tmp_path)
    assert _named(m, "Is there a notice clause in our contract with HD?") == {"orion_alliance.txt"}
    assert _named(m, "Can the agreement with Orion Robotics be terminated for convenience?") == {
        "orion_alliance.txt"
    }
    assert _named(m, "what does the Manufacturer have to deliver") == {"acme_supply.txt"}
    assert _named(m, "What's the term? Acme Labs") == {"acme_supply.txt"}  # word order aside


def test_a_question_naming_no_document_names_none(tmp_path: Path) -> None:
    m = _manifest(tmp_path)
    assert _named(m, "Which contracts can be terminated for convenience?") == set()
    assert _named(m, "What is the governing law?") == set()
    assert DocumentScorer(m).mentions("is there a non-compete clause") == {}


def test_libraries_from_before_profiles_get_them_on_open(tmp_path: Path) -> None:
    m = _manifest(tmp_path)
    m.close()
    db = sqlite3.connect(tmp_path / "m.sqlite3")
    db.execute("ALTER TABLE documents DROP COLUMN profile")  # as an older version wrote it
    db.commit()
    db.close()
    m = Manifest(tmp_path / "m.sqlite3")
    profiles = {n: p for n, p in m.profiles().values()}
    assert "Globex Corporation" in profiles["globex_supply.txt"].parties
    assert _named(m, "governing law in our deal with Globex") == {"globex_supply.txt"}


def _p(file: str, score: float) -> Passage:
    return Passage(file=file, page=1, start=0, end=1, text="x", score=score)


def test_group_by_document_keeps_rank_order() -> None:
    ps = [_p("b.pdf", 0.9), _p("a.pdf", 0.8), _p("b.pdf", 0.7), _p("c.pdf", 0.6), _p("a.pdf", 0.5)]
    groups = group_by_document(ps)
    assert [f for f, _ in groups] == ["b.pdf", "a.pdf", "c.pdf"]
    assert [p.score for p in groups[0][1]] == [0.9, 0.7]
    assert group_by_document([]) == []


def test_unnamed_question_draws_on_several_documents(library, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    for name, (opening, fill) in CONTRACTS.items():
        (tmp_path / "docs" / name).write_text(opening + CLAUSES.format(**fill))
    library.ingest([tmp_path / "docs"])
    got = library.search("Which contracts can be terminated for convenience?", 4)
    files = [f for f, _ in group_by_document(got)]
    assert len(files) >= 2
    got = library.search("What is the governing law in our contract with Globex?", 4)
    assert got[0].file.endswith("globex_supply.txt") and "Texas" in got[0].text
    assert len({p.file for p in library.search("governing law in our contract with Globex", 8)}) > 1


def _add(m: Manifest, name: str, text: str) -> int:
    from rag.types import Chunk

    doc = ParsedDocument(pages=[Page(1, text)], kind="txt")
    doc_id, _ids, _old = m.begin_document(
        path=f"/x/{name}", name=name, sha256="", size=1, parsed=doc,
        chunks=[Chunk(1, 0, len(text), text)], vectors=np.zeros((1, 4), np.float32),
    )
    m.mark_ready(doc_id)
    return doc_id


def test_what_searches_cache_follows_every_write(tmp_path: Path) -> None:
    """The document finder and keyword search keep what they read until the manifest
    changes: a document added, or removed, after the first question counts at the next."""
    m = _manifest(tmp_path)
    scorer = DocumentScorer(m)
    assert scorer.mentions("the lease with Zenith Partners") == {}
    zenith = _add(m, "zenith_lease.txt", 'LEASE\n\nThis Lease is made between Zenith Partners LLC ("Zenith") '
                  "and Tenant. The rent is payable monthly in arrears.")
    assert set(scorer.mentions("the lease with Zenith Partners")) == {zenith}
    m.delete_document(zenith)
    assert scorer.mentions("the lease with Zenith Partners") == {}

    # "rent" is rare, then held by most passages: a word in over common_share of the
    # passages is left out of the match while a rarer one remains.
    _add(m, "zenith2.txt", "The rent is payable monthly in arrears.")
    for i in range(3):
        _add(m, f"other{i}.txt", f"Delivery note {i}: goods received in good order.")
    assert len(m.keyword_search("rent arrears monthly", 10, common_share=0.5)) == 1
    assert m._selective(["rent", "arrears", "monthly"], 0.5) == ["rent", "arrears", "monthly"]
    for i in range(4):
        _add(m, f"note{i}.txt", f"Rent note {i}: the rent was paid.")
    assert m._selective(["rent", "arrears", "monthly"], 0.5) == ["arrears", "monthly"]
    assert len(m.keyword_search("rent arrears monthly", 10, common_share=0.5)) == 1
    assert len(m.keyword_search("rent arrears monthly", 10)) == 5  # every word: every rent passage
