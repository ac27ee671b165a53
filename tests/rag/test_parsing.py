"""Parsers on real files, and every kind of bad input failing alone with a clear reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.parsing.registry import ParserRegistry
from rag.protocols import ParseError
from tests.helpers.pdfs import make_blank_pdf, make_encrypted_pdf, make_text_pdf


@pytest.fixture
def registry() -> ParserRegistry:
    return ParserRegistry()


def test_pdf_pages_and_text(registry: ParserRegistry, sample_pdf: Path) -> None:
    doc = registry.parse(sample_pdf)
    assert doc.kind == "pdf"
    assert [p.number for p in doc.pages] == [1, 2]
    assert "thirty (30) days" in doc.pages[1].text
    assert doc.title == "Mutual Non-Disclosure Agreement"


def test_real_contract_with_spaces_and_commas_in_name(registry: ParserRegistry, cuad: Path) -> None:
    f = next(p for p in sorted((cuad / "pdf").iterdir()) if "," in p.name)
    doc = registry.parse(f)
    assert len(doc.pages) > 1 and sum(len(p.text) for p in doc.pages) > 1000


def _reason(registry: ParserRegistry, path: Path) -> str:
    with pytest.raises(ParseError) as err:
        registry.parse(path)
    return str(err.value)


def test_zero_byte_file(registry: ParserRegistry, tmp_path: Path) -> None:
    f = tmp_path / "empty.pdf"
    f.write_bytes(b"")
    assert "empty" in _reason(registry, f)


def test_not_a_pdf(registry: ParserRegistry, tmp_path: Path) -> None:
    f = tmp_path / "letter.pdf"
    f.write_text("Dear Sir, this is plain text pretending to be a PDF.\n" * 20)
    assert "not a PDF" in _reason(registry, f)


def test_truncated_pdf_is_damaged(registry: ParserRegistry, tmp_path: Path, sample_pdf: Path) -> None:
    f = tmp_path / "cut.pdf"
    f.write_bytes(sample_pdf.read_bytes()[:300])
    reason = _reason(registry, f)
    assert "damaged" in reason or "no text" in reason


def test_encrypted_pdf(registry: ParserRegistry, tmp_path: Path, sample_pdf: Path) -> None:
    f = make_encrypted_pdf(tmp_path / "locked.pdf", sample_pdf)
    assert "password" in _reason(registry, f)


def test_pdf_without_text_layer(registry: ParserRegistry, tmp_path: Path) -> None:
    f = make_blank_pdf(tmp_path / "scan.pdf")
    assert "OCR" in _reason(registry, f)


def test_missing_and_unsupported(registry: ParserRegistry, tmp_path: Path) -> None:
    assert "not found" in _reason(registry, tmp_path / "nope.pdf")
    f = tmp_path / "photos.zip"  # (.jpg is read now: a photographed page goes to OCR)
    f.write_bytes(b"PK\x03\x04" + b"0" * 100)
    assert "unsupported" in _reason(registry, f)


def test_hostile_pdf_object_loop_fails_alone(registry: ParserRegistry, tmp_path: Path) -> None:
    f = tmp_path / "loop.pdf"
    f.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    with pytest.raises(ParseError):
        registry.parse(f)


def test_docx_offline_without_spacy_model(registry: ParserRegistry, tmp_path: Path) -> None:
    """unstructured would download en_core_web_sm here; our patch keeps it local."""
    import docx

    d = docx.Document()
    d.add_heading("Letter of engagement", 1)
    d.add_paragraph("We confirm that Harbor Legal will represent Northwind Clinics in the lease dispute.")
    d.add_paragraph("Our fees are billed monthly. Either side may end this engagement with 14 days notice.")
    f = tmp_path / "engagement.docx"
    d.save(str(f))
    doc = registry.parse(f)
    text = "\n".join(p.text for p in doc.pages)
    assert "14 days notice" in text and "Harbor Legal" in text
    import importlib.util

    assert importlib.util.find_spec("en_core_web_sm") is None  # nothing was installed


def test_plain_text_and_html(registry: ParserRegistry, tmp_path: Path) -> None:
    t = tmp_path / "note.txt"
    t.write_text("Patient consent form\n\nThe patient agrees to the procedure.")
    assert "consent" in registry.parse(t).pages[0].text
    h = tmp_path / "memo.html"
    h.write_text("<html><body><h1>Memo</h1><p>The hearing is on 3 May at 10am.</p></body></html>")
    assert "3 May" in registry.parse(h).pages[0].text


def test_make_text_pdf_roundtrip(tmp_path: Path, registry: ParserRegistry) -> None:
    f = make_text_pdf(tmp_path / "a (b), c.pdf", [["Hello (world)", "second line"], ["page two"]])
    doc = registry.parse(f)
    assert "Hello (world)" in doc.pages[0].text and doc.pages[1].text == "page two"
