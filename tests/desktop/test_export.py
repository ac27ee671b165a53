"""Exports carry the citations as footnotes: file, page and the quoted passage."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.chat_store import ChatStore, Exchange, SourceRef
from desktop.export import export, to_markdown
from rag.store.sealed import Sealer


def _exchanges() -> list[Exchange]:
    s1 = SourceRef(1, "nda.pdf", 2, 10, 60, "Either party may terminate on thirty (30) days' notice.", 1, "/x/nda.pdf")
    s2 = SourceRef(2, "nda.pdf", 1, 0, 40, "This Mutual Non-Disclosure Agreement is made on 1 March.", 1, "/x/nda.pdf")
    s3 = SourceRef(1, "lease.pdf", 7, 0, 20, "Rent is due monthly.", 2, "/x/lease.pdf")
    return [
        Exchange("How can it be terminated?", "By thirty days' notice [1]. It was signed in March [2].",
                 [s1, s2]),
        Exchange("When is rent due?", "Monthly [1].", [s3]),
    ]


def test_markdown_footnotes_are_numbered_across_the_chat() -> None:
    md = to_markdown(_exchanges(), "Matter 12")
    assert "By thirty days' notice [^1]. It was signed in March [^2]." in md
    assert "Monthly [^3]." in md
    assert "[^1]: nda.pdf, page 2: “Either party may terminate on thirty (30) days' notice.”" in md
    assert "[^3]: lease.pdf, page 7: “Rent is due monthly.”" in md


def test_docx_contains_footnotes(tmp_path: Path) -> None:
    import zipfile

    from docx import Document

    out = tmp_path / "chat.docx"
    export(_exchanges(), out, "Matter 12")
    with zipfile.ZipFile(out) as z:
        body = z.read("word/document.xml").decode()
        notes = z.read("word/footnotes.xml").decode()
        rels = z.read("word/_rels/document.xml.rels").decode()
        types = z.read("[Content_Types].xml").decode()
    assert body.count("<w:footnoteReference") == 3
    assert 'w:id="1"' in notes and 'w:id="3"' in notes
    assert "nda.pdf, page 2: “Either party may terminate on thirty (30) days&apos; notice.”" in notes or \
        "nda.pdf, page 2: “Either party may terminate on thirty (30) days' notice.”" in notes
    assert "lease.pdf, page 7" in notes
    assert "footnotes.xml" in rels and "footnotes+xml" in types
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)  # still a valid document
    assert "By thirty days' notice" in text


def test_pdf_export_writes_a_pdf(qapp, tmp_path: Path) -> None:
    out = tmp_path / "answer.pdf"
    export(_exchanges()[:1], out, "One answer")
    assert out.read_bytes().startswith(b"%PDF")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(out))
    text = pdf[0].get_textpage().get_text_bounded()
    assert "nda.pdf, page 2" in text


def test_chat_history_round_trips(tmp_path: Path) -> None:
    sealer = Sealer(os.urandom(32))
    store = ChatStore(tmp_path, sealer)
    store.current().exchanges.extend(_exchanges())
    store.save()
    again = ChatStore(tmp_path, sealer)
    assert again.current().exchanges == store.current().exchanges
    fresh = again.new_chat()
    assert fresh is not store.current() and not fresh.exchanges and len(again.chats) == 2
    assert again.new_chat() is fresh  # an empty chat is reused
