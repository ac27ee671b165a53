"""The formats of a real matter folder, parsed from real files made here: each reads
with a location that fits it ("12 Termination › ¶ 1", "sheet Invoices, rows 2–14",
"From Jane Roe, 2 Mar 2026, ...", "retainer.eml › lease.pdf, page 1"), and each
kind of bad input fails alone with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.chunking import ChunkerConfig, StructuredChunker
from rag.ingest.locations import anchor_location
from rag.ingest.parsing import ocr
from rag.ingest.parsing import sheets as sheets_mod
from rag.ingest.parsing.mail import parse_eml
from rag.ingest.parsing.registry import ParserRegistry
from rag.protocols import ParseError
from rag.types import Page
from rag.where import render
from tests.helpers.matter import (
    make_csv,
    make_docx,
    make_eml,
    make_mixed_pdf,
    make_scan_pdf,
    make_xlsx,
    make_zip_bomb_docx,
)
from tests.helpers.pdfs import make_text_pdf

needs_tesseract = pytest.mark.skipif(not ocr.available(), reason="Tesseract is not installed")


@pytest.fixture
def registry() -> ParserRegistry:
    return ParserRegistry()


def _where(page: Page, phrase: str) -> str:
    at = page.text.index(phrase)
    return anchor_location(page, at, at + len(phrase))


def test_render_reads_like_a_person_would_say_it() -> None:
    assert render("sheet Invoices", "row", 2, 14) == "sheet Invoices, rows 2–14"
    assert render("sheet Invoices", "row", 5, 5) == "sheet Invoices, row 5"
    assert render("12 Termination", "¶", 9, 9) == "12 Termination › ¶ 9"
    assert render("", "line", 3, 8) == "lines 3–8"


def test_docx_heading_path_paragraph_and_table_rows(registry: ParserRegistry, tmp_path: Path) -> None:
    doc = registry.parse(make_docx(tmp_path / "engagement.docx"))
    page = doc.pages[0]
    assert _where(page, "14 days notice") == "Engagement letter › 12 Termination › ¶ 1"
    assert _where(page, "work done until") == "Engagement letter › 12 Termination › ¶ 2"
    # A table row keeps its header and is located by its row.
    assert "Task: Lease review · Hours: 6 · Rate: 310" in page.text
    assert _where(page, "Mediation brief") == "Engagement letter › 13 Fees › table 1, row 3"


def test_xlsx_rows_keep_their_header_and_sheet(registry: ParserRegistry, tmp_path: Path) -> None:
    doc = registry.parse(make_xlsx(tmp_path / "billing.xlsx"))
    invoices, notes = doc.pages
    assert "Client: Abernathy Holdings · Matter: arbitration retainer · Amount: 18500" in invoices.text
    assert _where(invoices, "arbitration retainer") == "sheet Invoices, row 7"
    assert _where(notes, "45 days") == "sheet Notes, row 2"
    chunks = StructuredChunker().chunk(doc)
    assert chunks[0].location == "sheet Invoices, rows 2–14"


def test_huge_sheet_is_cut_with_a_note(registry: ParserRegistry, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sheets_mod, "MAX_ROWS", 5)
    doc = registry.parse(make_xlsx(tmp_path / "big.xlsx", rows=40))
    assert doc.notes and "only the first 5 rows" in doc.notes[0]
    assert doc.pages[0].text.count("Client:") == 4  # the header row counts as read


def test_csv_sniffs_delimiter_and_windows_encoding(registry: ParserRegistry, tmp_path: Path) -> None:
    f = tmp_path / "ward.csv"
    f.write_bytes("Patient,Note\nJosé Núñez,allergic to penicillin\n".encode("cp1252"))
    page = registry.parse(f).pages[0]
    assert page.text == "Patient: José Núñez · Note: allergic to penicillin"
    semi = registry.parse(make_csv(tmp_path / "allergies.csv")).pages[0]
    assert _where(semi, "latex") == "row 3" and "Allergy: latex" in semi.text


def test_markdown_and_text_heading_and_line(registry: ParserRegistry, tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text("\n# Visit notes\n\nFirst visit was fine.\n\n## Medication\n\nStart metformin 500 mg.\n")
    page = registry.parse(md).pages[0]
    assert _where(page, "metformin") == "Medication › line 8"
    txt = tmp_path / "letter.txt"
    txt.write_text("Dear Sir,\n\n12. TERMINATION\nThe lease ends in May.\n")
    page = registry.parse(txt).pages[0]
    assert _where(page, "lease ends") == "12 TERMINATION › line 4"
    assert _where(page, "Dear Sir") == "line 1"


def test_html_heading_and_table(registry: ParserRegistry, tmp_path: Path) -> None:
    h = tmp_path / "memo.html"
    h.write_text("<html><body><h1>Memo</h1><p>The hearing is on 3 May.</p><h2>Fees</h2>"
                 "<table><tr><th>Client</th><th>Amount</th></tr><tr><td>Abernathy</td><td>18500</td></tr>"
                 "</table></body></html>")
    page = registry.parse(h).pages[0]
    assert _where(page, "3 May") == "Memo › ¶ 1"
    assert "Client: Abernathy · Amount: 18500" in page.text
    assert _where(page, "Abernathy") == "Memo › Fees › table 1, row 2"


def test_eml_body_metadata_and_attachments(registry: ParserRegistry, tmp_path: Path) -> None:
    lease = make_text_pdf(tmp_path / "lease.pdf", [["The rent is 4,200 EUR per month."]])
    inner = make_eml(tmp_path / "fwd.eml", [make_csv(tmp_path / "a.csv")], subject="Allergies")
    doc = registry.parse(make_eml(tmp_path / "retainer.eml", [lease, inner]))
    meta = dict(doc.meta)
    assert meta["from"].startswith("Jane Roe") and meta["subject"] == "Retainer and lease documents"
    assert meta["date"].startswith("2026-03-02") and "tom@northwind.example" in meta["to"]
    assert doc.title == "Retainer and lease documents"
    assert _where(doc.pages[0], "hearing") == "From Jane Roe, 2 Mar 2026, Subject: Retainer and lease documents"
    assert [a.name for a in doc.attachments] == ["lease.pdf", "fwd.eml"]
    assert doc.attachments[0].data == lease.read_bytes()
    nested = parse_eml(doc.attachments[1].data)  # the forwarded message, with its own attachment
    assert nested.title == "Allergies" and [a.name for a in nested.attachments] == ["a.csv"]


def test_damaged_mail_and_msg_fail_with_a_reason(registry: ParserRegistry, tmp_path: Path) -> None:
    msg = tmp_path / "note.msg"
    msg.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(ParseError, match="Outlook message is damaged"):
        registry.parse(msg)


def test_legacy_binaries_get_advice(registry: ParserRegistry, tmp_path: Path) -> None:
    for name, advice in (("old.doc", "DOCX or PDF"), ("old.xls", "XLSX or PDF"), ("old.wpd", "DOCX or PDF")):
        f = tmp_path / name
        f.write_bytes(b"\xd0\xcf\x11\xe0" + b"0" * 100)
        with pytest.raises(ParseError, match=f"save it as {advice} and add it again"):
            registry.parse(f)


def test_zip_bomb_named_docx_is_refused_before_opening(registry: ParserRegistry, tmp_path: Path) -> None:
    bomb = make_zip_bomb_docx(tmp_path / "contract.docx")
    assert bomb.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(ParseError, match="zip bomb"):
        registry.parse(bomb)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    with pytest.raises(ParseError, match="damaged or is not really a XLSX"):
        registry.parse(fake)


@needs_tesseract
def test_scanned_pdf_is_read_by_ocr_with_confidence(registry: ParserRegistry, tmp_path: Path) -> None:
    scan = make_scan_pdf(tmp_path / "fax.pdf")
    text_only = registry.parse(scan, ocr=False)
    assert text_only.needs_ocr == (1,)
    doc = registry.parse(scan)
    page = doc.pages[0]
    assert "discharged" in page.text and "cardiology" in page.text
    assert page.ocr_confidence is not None and page.ocr_confidence > 70
    assert "read by OCR" in doc.notes[0] and not doc.needs_ocr


@needs_tesseract
def test_only_the_scanned_page_of_a_contract_is_ocred(registry: ParserRegistry, tmp_path: Path) -> None:
    doc = registry.parse(make_mixed_pdf(tmp_path / "contract.pdf"))
    assert [p.ocr_confidence is not None for p in doc.pages] == [False, False, True]
    assert "Leeds" in doc.pages[2].text and "thirty days" in doc.pages[1].text
    assert doc.notes == (f"page 3 of 3 read by OCR (confidence {doc.pages[2].ocr_confidence:.0f}%)",)


def test_without_tesseract_text_pages_are_kept_and_the_rest_named(
    registry: ParserRegistry, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(ocr, "available", lambda: False)
    doc = registry.parse(make_mixed_pdf(tmp_path / "contract.pdf"))
    assert "thirty days" in doc.pages[1].text and doc.pages[2].text == ""
    assert doc.notes == ("page 3 could not be read: OCR is not available on this computer "
                         "(Tesseract is not installed)",)
    with pytest.raises(ParseError, match="OCR is not available"):
        registry.parse(make_scan_pdf(tmp_path / "fax.pdf"))


@needs_tesseract
def test_unreadable_scan_page_is_listed(registry: ParserRegistry, tmp_path: Path) -> None:
    """A page of noise: OCR runs, finds nothing usable, and the page is named as unread."""
    import random

    from PIL import Image

    rnd = random.Random(3)
    img = Image.new("L", (400, 500), 255)
    img.putdata([rnd.choice((0, 255)) for _ in range(400 * 500)])
    noise = tmp_path / "noise.png"
    img.save(noise)
    with pytest.raises(ParseError, match="page 1 could not be read"):
        registry.parse(noise)


@needs_tesseract
def test_scanned_image_file(registry: ParserRegistry, tmp_path: Path) -> None:
    from PIL import Image

    pdf = make_scan_pdf(tmp_path / "fax.pdf")
    import pypdfium2 as pdfium

    png = tmp_path / "fax.png"
    pdfium.PdfDocument(str(pdf))[0].render(scale=2).to_pil().save(png)
    assert Image.open(png).size[0] > 1000
    doc = registry.parse(png)
    assert "discharged" in doc.pages[0].text and doc.kind == "png"


def test_chunk_locations_for_a_long_docx(tmp_path: Path, registry: ParserRegistry) -> None:
    import docx

    d = docx.Document()
    d.add_heading("12 Termination", 1)
    for i in range(1, 7):
        d.add_paragraph(f"Paragraph {i} of the termination clause. " + "The notice runs from delivery. " * 8)
    f = tmp_path / "long.docx"
    d.save(str(f))
    chunks = StructuredChunker(ChunkerConfig()).chunk(registry.parse(f))
    assert len(chunks) > 2
    assert all(c.location.startswith("12 Termination") for c in chunks)
    assert any(c.location.startswith("12 Termination › ¶ ") and "–" in c.location for c in chunks)


def test_attachment_locations_start_with_their_message() -> None:
    from rag.ingest.locations import locate
    from rag.types import Anchor, ParsedDocument

    page = Page(1, "Client: Abernathy", (Anchor(0, "", "row", 2),))
    csv_doc = ParsedDocument([page], "csv", where="mail.eml › a.csv")
    assert locate(csv_doc, page, 0, 6) == "mail.eml › a.csv, row 2"
    memo = Page(1, "Fees are monthly.", (Anchor(0, "13 Fees", "¶", 1),))
    assert locate(ParsedDocument([memo], "docx", where="mail.eml › memo.docx"), memo, 0, 4) == \
        "mail.eml › memo.docx › 13 Fees › ¶ 1"
    pdf = ParsedDocument([Page(1, "x"), Page(2, "y")], "pdf", where="mail.eml › lease.pdf")
    assert locate(pdf, pdf.pages[1], 0, 1) == "mail.eml › lease.pdf, page 2"
    assert locate(ParsedDocument([Page(1, "x")], "pdf"), Page(1, "x"), 0, 1) == ""  # a PDF: "page N" says it


@needs_tesseract
def test_ocr_budget_spent_names_the_pages_left(registry: ParserRegistry, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ocr, "BUDGET_S", 0.0)
    with pytest.raises(ParseError, match="page 1 could not be read: the time for OCR ran out"):
        registry.parse(make_scan_pdf(tmp_path / "fax.pdf"))


def test_ocr_notes_keep_each_page_confidence() -> None:
    notes = ocr.describe({4: "too faint or unclear for OCR"}, {2: 91.2, 3: 87.6}, 5)
    assert notes == ("pages 2, 3 of 5 read by OCR (confidence 91%, 88%)",
                     "page 4 could not be read: too faint or unclear for OCR")


def test_a_quote_from_a_sheet_is_located_by_its_own_rows() -> None:
    from rag.types import Passage, Quote
    from rag.where import narrow

    text = "Client: Brightwater · Amount: 1075\n\nClient: Abernathy · Amount: 18500\n\nClient: Calder · Amount: 1150"
    p = Passage("billing.xlsx", 1, 100, 100 + len(text), text, 1.0, where="sheet Invoices, rows 2–4")
    at = text.index("Client: Abernathy")
    q = Quote(1, p, 100 + at, 100 + at + 32, text[at:at + 32])
    assert q.location == "sheet Invoices, row 3"
    assert narrow("12 Termination › ¶ 1", text, 0, 5) == "12 Termination › ¶ 1"
    assert narrow("mail.eml › a.csv, rows 2–4", text, at, len(text)) == "mail.eml › a.csv, rows 3–4"
