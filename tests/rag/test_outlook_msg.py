"""A real Outlook message (tests/fixtures/newsletter.msg, see the README there) through the
parser and a real library: nothing here can write an MSG, so this is the only proof that
one sent by Outlook is read, located and searchable, and that the pictures a newsletter
shows in its body do not each fail beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.parsing import ocr
from rag.ingest.parsing.mail import parse_msg
from rag.ingest.parsing.registry import ParserRegistry
from rag.library import Library
from rag.types import DocStatus, Outcome
from tests.helpers.matter import make_eml

MSG = Path(__file__).resolve().parents[1] / "fixtures" / "newsletter.msg"
SUBJECT = "Newsletter Prüfung Personalwesen / Prüfung Eröffnungsbilanz"
WHERE = f"From NueblingV@w-vwa.de, 18 Sep 2017, Subject: {SUBJECT}"


def test_the_body_is_one_document_with_its_headers_and_location() -> None:
    doc = ParserRegistry().parse(MSG)
    meta = dict(doc.meta)
    assert doc.kind == "msg" and doc.title == SUBJECT
    assert meta["from"] == "<NueblingV@w-vwa.de>" and meta["subject"] == SUBJECT
    assert meta["date"] == "2017-09-18T10:00:18+00:00"
    assert "Gaiser-Schönenborn" in meta["to"]
    [page] = doc.pages
    assert page.anchors[0].context == WHERE
    assert page.text.startswith("From: <NueblingV@w-vwa.de>\n")
    assert "Die kommunale Eröffnungsbilanz im Fokus der Rechnungsprüfung" in page.text


def test_only_the_picture_large_enough_to_be_a_scan_is_lifted_out() -> None:
    """The spacer and the three small logos are inline pictures (a content id, under 30 KB):
    skipped, as for EML. The 100 KB banner could be a pasted scan, so it is tried."""
    assert [(a.name, len(a.data)) for a in parse_msg(MSG).attachments] == [("newsletter.png", 100150)]


def test_an_encoded_sender_is_shown_decoded() -> None:
    from rag.ingest.parsing.mail import _decoded

    raw = "=?GBK?B?TWFpbCBEZWxpdmVyeSBTdWJzeXN0ZW0=?= <mailer-daemon@example.cn>"
    assert _decoded(raw) == "Mail Delivery Subsystem <mailer-daemon@example.cn>"
    assert _decoded("=?x-unknown?B?SmFuZQ==?= <j@example.org>") == "=?x-unknown?B?SmFuZQ==?= <j@example.org>"


@pytest.fixture(scope="module")
def lib(embedder, tmp_path_factory: pytest.TempPathFactory):
    """The message beside another e-mail, so that search has to tell them apart."""
    parts = tmp_path_factory.mktemp("mail")
    other = make_eml(parts / "retainer.eml", [])
    library = Library(tmp_path_factory.mktemp("lib") / "lib", embedder)
    library.report = library.ingest([MSG, other])  # type: ignore[attr-defined]
    yield library
    library.close()


@pytest.mark.slow
def test_the_message_is_indexed_and_its_attachment_fails_alone(lib: Library) -> None:
    outcome = {r.name: r for r in lib.report.results}  # type: ignore[attr-defined]
    assert outcome["newsletter.msg"].outcome is Outcome.INDEXED
    banner = outcome["newsletter.msg › newsletter.png"]
    # A photo with a word or two on it: no text to index, said in words, and only for it.
    assert banner.outcome is Outcome.FAILED
    expected = "no text could be read from this picture" if ocr.available() else "OCR is not available"
    assert expected in banner.reason and "Traceback" not in banner.reason
    docs = {d.name: d for d in lib.documents()}
    message = docs["newsletter.msg"]
    assert message.status is DocStatus.READY and message.kind == "msg"
    children = [d for d in docs.values() if d.parent == message.id]
    assert [(d.name, d.status) for d in children] == [("newsletter.msg › newsletter.png", DocStatus.FAILED)]


@pytest.mark.slow
def test_a_phrase_from_the_body_finds_the_message_and_says_where(lib: Library) -> None:
    top = lib.search("Baden-Württembergischer Fachtag für Rechnungsprüfer", k=1)[0]
    assert (top.file, top.location) == ("newsletter.msg", WHERE)
    assert "Fachtag für Rechnungsprüfer/innen" in top.text
