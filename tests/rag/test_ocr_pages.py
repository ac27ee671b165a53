"""Each page read by OCR keeps its confidence in the manifest (``pages.ocr_confidence``),
so the CLI can say which pages to check against the paper: "page 3 read by OCR,
confidence 92%". A library written before the column existed gains it on opening."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from rag.cli.main import _ocr_line
from rag.ingest.parsing import ocr
from rag.library import Library
from rag.store import schema
from rag.store.manifest import Manifest
from tests.helpers.matter import make_mixed_pdf
from tests.rag.test_cli import docqa

needs_tesseract = pytest.mark.skipif(not ocr.available(), reason="Tesseract is not installed")


def test_a_manifest_from_before_the_column_gains_it_and_keeps_its_pages(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(schema.SCHEMA)  # the tables as an earlier version wrote them
    assert "ocr_confidence" not in {r[1] for r in old.execute("PRAGMA table_info(pages)")}
    old.execute("INSERT INTO documents(id, path, name, kind, status, pages, added_at, updated_at)"
                " VALUES (1, '/m/fax.pdf', 'fax.pdf', 'pdf', 'ready', 1, 0, 0)")
    old.execute("INSERT INTO pages(doc_id, number, text) VALUES (1, 1, 'discharged on 4 March')")
    old.commit()
    old.close()
    m = Manifest(path)
    try:
        assert m.page_text(1, 1) == "discharged on 4 March"
        assert m.ocr_pages(1) == []  # read before confidence was kept: nothing to claim
    finally:
        m.close()


def test_the_text_form_names_each_page_and_stays_short() -> None:
    assert _ocr_line([(3, 92.14)]) == "page 3 read by OCR, confidence 92%"
    assert _ocr_line([(1, 88.0), (2, 61.6)]) == "read by OCR, confidence: page 1 88%, page 2 62%"
    many = _ocr_line([(n, 90.0) for n in range(1, 301)])
    assert many.endswith("page 12 90% and 288 more (see --json)")


@needs_tesseract
@pytest.mark.slow
def test_only_the_scanned_page_has_a_confidence_and_the_note_stays(library: Library, tmp_path: Path) -> None:
    library.ingest([make_mixed_pdf(tmp_path / "contract.pdf")])
    doc = next(d for d in library.documents() if d.name == "contract.pdf")
    [(page, confidence)] = library.manifest.ocr_pages(doc.id)
    assert page == 3 and ocr.MIN_CONFIDENCE <= confidence <= 100
    assert doc.ocr_pages == ((3, confidence),)  # what the app's documents table shows
    assert doc.error == f"page 3 of 3 read by OCR (confidence {confidence:.0f}%)"


@needs_tesseract
@pytest.mark.slow
def test_cli_list_shows_the_pages_read_by_ocr(tmp_path: Path) -> None:
    lib = tmp_path / "library"
    contract = make_mixed_pdf(tmp_path / "contract.pdf")
    r = docqa(lib, "ingest", str(contract))
    assert r.returncode == 0, r.stderr
    [listed] = json.loads(docqa(lib, "list", "--json").stdout)
    [shown] = listed["ocr_pages"]
    assert shown["page"] == 3 and ocr.MIN_CONFIDENCE <= shown["confidence"] <= 100
    assert shown["confidence"] == round(shown["confidence"], 1)
    said = re.search(r"page 3 read by OCR, confidence (\d+)%", docqa(lib, "list").stdout)
    assert said and abs(int(said[1]) - shown["confidence"]) <= 1
