"""The retrieval rules measured by tests/bench/cuad_eval.py, pinned on small cases."""

from __future__ import annotations

from pathlib import Path

from rag.ask.scope import DocumentScorer, split_query
from rag.ingest.chunking import ChunkerConfig, StructuredChunker, detect_heading, running_lines
from rag.store.manifest import Manifest
from rag.types import Page, ParsedDocument

NBSP = "\xa0"


def test_headings_spaced_with_no_break_spaces_are_detected() -> None:
    h = detect_heading(f"12.3{NBSP}Termination{NBSP}for{NBSP}Convenience.{NBSP}Either party")
    assert h is not None and h.text == "12.3 Termination for Convenience"
    assert detect_heading(f"1.{NBSP}GRANT{NBSP}OF{NBSP}RIGHTS") is not None


def test_headings_glued_to_their_number_and_wrapped_references() -> None:
    h = detect_heading("2.8Debarment. Each Party represents")
    assert h is not None and h.text == "2.8 Debarment"
    assert detect_heading("3M Company shall deliver") is None
    assert detect_heading("Section 2.3 is subject to the terms") is None
    assert detect_heading("Section 2 worldwide, at no additional cost") is None


def test_running_headers_are_not_headings() -> None:
    body = "The Supplier shall deliver the goods on time and in full. " * 6
    pages = [Page(i, f"CONFIDENTIAL TREATMENT\n{i}. Clause {i}\n{body}") for i in range(1, 6)]
    assert "CONFIDENTIAL TREATMENT" in running_lines([p.text for p in pages])
    chunks = StructuredChunker(ChunkerConfig(size=300, overlap=50, min_size=100)).chunk(
        ParsedDocument(pages=pages, kind="pdf")
    )
    assert all("Confidential" not in c.heading for c in chunks)
    assert any("3 Clause 3" in c.heading for c in chunks)


def test_article_number_and_title_on_two_lines_make_one_heading() -> None:
    body = "The Supplier shall deliver the goods on time and in full. " * 6
    doc = ParsedDocument(pages=[Page(1, f"ARTICLE 2\nSUPPLY OBLIGATIONS\n{body}")], kind="pdf")
    chunks = StructuredChunker().chunk(doc)
    assert chunks[0].heading == "Article 2 Supply Obligations"


def test_split_query_separates_the_document_from_the_question() -> None:
    q = 'Consider the SUPPLY AGREEMENT between Acme Corp. ("Acme"); Widget LLC; What is the governing law?'
    sq = split_query(q)
    assert sq.clause == "What is the governing law?"
    assert sq.scope.startswith("the SUPPLY AGREEMENT between Acme")
    assert split_query("What is the governing law?").scope == ""
    assert split_query("termination for convenience").scope == ""


def test_document_scorer_prefers_the_named_document(tmp_path: Path) -> None:
    import numpy as np

    m = Manifest(tmp_path / "m.sqlite3")
    for name, first in [
        ("acme_supply.pdf", "SUPPLY AGREEMENT between Acme Corp. and Widget LLC"),
        ("globex_license.pdf", "LICENSE AGREEMENT between Globex Inc. and Initech Ltd."),
    ]:
        doc = ParsedDocument(pages=[Page(1, first)], kind="pdf")
        doc_id, _ids, _old = m.begin_document(
            path=f"/x/{name}", name=name, sha256="", size=1, parsed=doc, chunks=[],
            vectors=np.zeros((0, 4), np.float32),
        )
        m.mark_ready(doc_id)
    scores = DocumentScorer(m).scores("the License Agreement between Globex Inc. and Initech")
    best = max(scores, key=lambda d: scores[d])
    assert m.titles()[best][0] == "globex_license.pdf"
    assert scores[best] > 0.9


def test_named_document_ranks_first_without_excluding_others(library, tmp_path: Path) -> None:
    clauses = (
        "1. Term. This Agreement lasts five years.\n\n"
        "2. Governing Law. This Agreement is governed by the laws of {state}.\n\n"
        "3. Notices. Notices must be in writing.\n"
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "acme.txt").write_text(
        "SUPPLY AGREEMENT between Acme Corp. and Widget LLC\n\n" + clauses.format(state="Delaware")
    )
    (tmp_path / "docs" / "globex.txt").write_text(
        "LICENSE AGREEMENT between Globex Inc. and Initech Ltd.\n\n" + clauses.format(state="Texas")
    )
    library.ingest([tmp_path / "docs"])
    for who, want, state in [("Acme Corp. and Widget LLC", "acme", "Delaware"),
                             ("Globex Inc. and Initech Ltd.", "globex", "Texas")]:
        got = library.search(f"Consider the agreement between {who}; What is the governing law?", 8)
        assert want in got[0].file and state in got[0].text
        assert {Path(p.file).stem for p in got} == {"acme", "globex"}  # others follow, not excluded
