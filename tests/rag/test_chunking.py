"""Chunker contract: page-confined, exact offsets, no text lost, headings tracked."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.chunking import ChunkerConfig, StructuredChunker, detect_heading
from rag.ingest.parsing.pdf import PdfParser
from rag.types import Page, ParsedDocument


def _assert_contract(doc: ParsedDocument, chunks) -> None:
    pages = {p.number: p.text for p in doc.pages}
    for c in chunks:
        assert c.text == pages[c.page][c.start : c.end]
        assert c.text.strip()
    for number, text in pages.items():
        covered = [False] * len(text)
        for c in chunks:
            if c.page == number:
                for i in range(c.start, c.end):
                    covered[i] = True
        lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
        assert not lost, f"page {number}: characters lost at {lost[:5]}"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_numbered_and_capital_headings_are_detected() -> None:
    assert detect_heading("12.3 Termination for Convenience. Either party may") is not None
    assert "Termination for Convenience" in detect_heading("12.3 Termination for Convenience. Either").text
    assert detect_heading("ARTICLE IV CONFIDENTIALITY") is not None
    assert detect_heading("GOVERNING LAW") is not None
    assert detect_heading("2019 Revenue grew by 5%") is None
    assert detect_heading("the parties agree as follows") is None


def test_heading_path_follows_sections_across_pages() -> None:
    body = "The Supplier shall deliver the goods on time and in full. " * 8
    doc = ParsedDocument(
        pages=[
            Page(1, f"1. Definitions\n{body}\n\n12. Termination\n12.3 Termination for Convenience. {body}"),
            Page(2, body),
        ],
        kind="pdf",
    )
    chunks = StructuredChunker(ChunkerConfig(size=400, overlap=50, min_size=100)).chunk(doc)
    _assert_contract(doc, chunks)
    last = [c for c in chunks if c.page == 2]
    assert last and "Termination for Convenience" in last[0].heading
    assert "Termination for Convenience" in last[0].indexed_text


@pytest.mark.parametrize("size,overlap", [(300, 0), (800, 100), (1500, 200)])
def test_no_text_lost_on_real_contracts(cuad: Path, size: int, overlap: int) -> None:
    files = sorted((cuad / "pdf").iterdir())[:4]
    chunker = StructuredChunker(ChunkerConfig(size=size, overlap=overlap))
    for f in files:
        doc = PdfParser().parse(f)
        chunks = chunker.chunk(doc)
        assert chunks
        _assert_contract(doc, chunks)


def test_long_unbroken_text_is_cut_without_loss() -> None:
    doc = ParsedDocument(pages=[Page(1, "x" * 5000 + " " + "y" * 3000)], kind="txt")
    chunks = StructuredChunker(ChunkerConfig(size=800, overlap=100)).chunk(doc)
    _assert_contract(doc, chunks)
    assert max(len(c.text) for c in chunks) <= 1000
