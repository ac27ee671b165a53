"""A whole matter folder through the library: every format searchable and located, an
e-mail's attachments as documents that go with it, scans read by OCR after the text
files, and the CLI's JSON carrying each location, offline (unshare -rn)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.ingest.parsing import ocr
from rag.library import Library
from rag.types import DocStatus, Outcome
from tests.helpers.matter import make_eml, make_matter
from tests.rag.test_cli import OFFLINE, docqa

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def matter(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("m") / "matter"
    files = make_matter(folder)
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"0" * 600)
    return files


@pytest.fixture(scope="module")
def lib(matter: dict[str, Path], embedder, tmp_path_factory: pytest.TempPathFactory):
    library = Library(tmp_path_factory.mktemp("lib") / "lib", embedder)
    library.report = library.ingest([matter["docx"].parent])  # type: ignore[attr-defined]
    yield library
    library.close()


def test_every_file_and_attachment_is_accounted_for(lib: Library) -> None:
    outcome = {r.name: r for r in lib.report.results}  # type: ignore[attr-defined]
    assert outcome["matter/old.doc"].outcome is Outcome.FAILED
    assert "save it as DOCX or PDF" in outcome["matter/old.doc"].reason
    for name in ("matter/engagement.docx", "matter/billing.xlsx", "matter/allergies.csv", "matter/retainer.eml",
                 "matter/retainer.eml › lease.pdf", "matter/retainer.eml › memo.docx",
                 "matter/retainer.eml › forwarded.eml", "matter/retainer.eml › forwarded.eml › allergies.csv"):
        assert outcome[name].outcome is Outcome.INDEXED, (name, outcome[name].reason)
    docs = {d.name: d for d in lib.documents()}
    message = docs["matter/retainer.eml"]
    assert docs["matter/retainer.eml › lease.pdf"].parent == message.id
    assert docs["matter/retainer.eml › forwarded.eml › allergies.csv"].parent == \
        docs["matter/retainer.eml › forwarded.eml"].id


@pytest.mark.skipif(not ocr.available(), reason="Tesseract is not installed")
def test_scan_is_read_after_the_text_files_and_noted(lib: Library) -> None:
    names = [r.name for r in lib.report.results if "›" not in r.name]  # type: ignore[attr-defined]
    assert names[-1] == "matter/fax.pdf"  # sorted first on disk, OCRed last: it held nothing up
    fax = next(d for d in lib.documents() if d.name == "matter/fax.pdf")
    assert fax.status is DocStatus.READY and "read by OCR" in fax.error


@pytest.mark.parametrize(("query", "file", "location"), [
    ("Abernathy arbitration retainer amount", "matter/billing.xlsx", "sheet Invoices, rows 2–14"),
    ("rent per month", "matter/retainer.eml › lease.pdf", "retainer.eml › lease.pdf, page 1"),
    ("how much notice ends the engagement", "matter/engagement.docx", "Engagement letter › 12 Termination › ¶ 1"),
    ("signed retainer hearing", "matter/retainer.eml", "From Jane Roe, 2 Mar 2026, Subject: Retainer and lease documents"),
    ("Tom Ruiz latex", "matter/allergies.csv", "rows 2–3"),
])
def test_each_format_is_searchable_and_located(lib: Library, query: str, file: str, location: str) -> None:
    hits = [(p.file, p.location) for p in lib.search(query, k=3)]
    assert (file, location) in hits, hits


@pytest.mark.skipif(not ocr.available(), reason="Tesseract is not installed")
def test_scanned_fax_is_searchable(lib: Library) -> None:
    top = lib.search("when was the patient discharged", k=1)[0]
    assert top.file == "matter/fax.pdf" and top.location == "page 1" and "4 March 2026" in top.text


def test_ask_json_citations_carry_the_location(lib: Library) -> None:
    """What ``ask --json`` prints for each citation (generating an answer adds nothing here)."""
    from rag.types import Citation

    top = next(p for p in lib.search("rent per month", k=3) if p.file.endswith("lease.pdf"))
    cited = Citation(1, top).to_json()
    assert set(cited) == {"n", "file", "page", "location", "text"}
    assert cited["location"] == "retainer.eml › lease.pdf, page 1"


def _permit_mail(tmp_path: Path) -> tuple[Path, Path]:
    """An e-mail with one text attachment, and the folder the attachment came from."""
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "note.txt").write_text("The parking permit costs 40 EUR a month.")
    return make_eml(tmp_path / "permit.eml", [parts / "note.txt"]), parts


def test_removing_a_message_removes_its_attachments(tmp_path: Path, embedder) -> None:
    mail, parts = _permit_mail(tmp_path)
    with Library(tmp_path / "lib", embedder) as library:
        library.ingest([mail])
        assert len(library.documents()) == 2
        # Changed on disk: the new version's attachments replace the old ones, vectors too.
        make_eml(mail, [parts / "note.txt"], subject="Permit, corrected")
        library.ingest([mail])
        assert len(library.documents()) == 2
        assert library.index.count() == library.manifest.count_chunks()
        library.remove([d.id for d in library.documents() if d.name == "permit.eml"])
        assert library.documents() == []
        assert library.index.count() == 0 == library.manifest.count_chunks()


def test_cli_search_json_carries_the_location(matter: dict[str, Path], tmp_path: Path) -> None:
    if not OFFLINE:
        pytest.skip("unshare -rn is not available here")
    lib = tmp_path / "cli-lib"
    folder = matter["docx"].parent
    r = docqa(lib, "ingest", str(folder / "fax.pdf"), str(folder / "billing.xlsx"), str(folder / "retainer.eml"))
    assert r.returncode == 0, r.stdout + r.stderr
    queries = tmp_path / "q.jsonl"  # one process, one model load, for both searches
    queries.write_text('{"query": "arbitration retainer Abernathy"}\n{"query": "patient discharged cardiology"}\n')
    sheet, fax = (json.loads(x)["results"] for x in
                  docqa(lib, "search", "--batch", str(queries), "-k", "3", "--json").stdout.splitlines())
    assert set(sheet[0]) == {"file", "page", "location", "start", "end", "text", "score"}
    assert {"file": "billing.xlsx", "location": "sheet Invoices, rows 2–14"} in [
        {"file": h["file"], "location": h["location"]} for h in sheet]
    if ocr.available():  # the scan, read by OCR with no network at all, says so
        assert "NOTE    fax.pdf: page 1 of 1 read by OCR" in r.stdout
        assert fax[0]["file"] == "fax.pdf" and fax[0]["location"] == "page 1"


def test_killed_between_a_message_and_its_attachments_reads_it_again(tmp_path: Path, embedder) -> None:
    mail, _parts = _permit_mail(tmp_path)
    with Library(tmp_path / "lib", embedder) as library:
        real = library.manifest.begin_document

        def killed(**kw):  # the kill comes as the attachment is written
            if kw.get("parent_id"):
                raise KeyboardInterrupt
            return real(**kw)

        library.manifest.begin_document = killed  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            library.ingest([mail])
        library.manifest.begin_document = real  # type: ignore[method-assign]
        report = library.ingest([mail])
        assert [r.outcome for r in report.results] == [Outcome.REPLACED, Outcome.INDEXED]
        assert sorted(d.name for d in library.documents()) == ["permit.eml", "permit.eml › note.txt"]
        assert library.ingest([mail]).results[0].outcome is Outcome.UNCHANGED
