"""The library on real parts: Chroma, MiniLM, pdfium, SQLite."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.cancel import CancelToken
from rag.library import Library
from rag.types import DocStatus, Outcome, Progress
from tests.helpers.pdfs import make_encrypted_pdf, make_text_pdf

REPO = Path(__file__).resolve().parents[2]


def _consistent(lib: Library) -> None:
    """Both stores agree: every ready chunk has a vector and no vector is orphaned."""
    assert not lib.manifest.documents_with_status(DocStatus.INDEXING)
    ready = {cid for ids, _d, _v in lib.manifest.embeddings() for cid in ids}
    assert lib.index.ids() == ready


def test_ingest_search_and_report(library: Library, sample_pdf: Path, tmp_path: Path) -> None:
    bad = tmp_path / "zero.pdf"
    bad.write_bytes(b"")
    report = library.ingest([sample_pdf, bad, tmp_path / "missing.pdf"])
    outcomes = {r.name: r.outcome for r in report.results}
    assert outcomes["sample-mutual-nda.pdf"] is Outcome.INDEXED
    assert outcomes["zero.pdf"] is Outcome.FAILED and outcomes["missing.pdf"] is Outcome.FAILED
    assert all(r.reason for r in report.failed)
    hits = library.search("How much notice to terminate for convenience?", 3)
    assert hits[0].file == "sample-mutual-nda.pdf" and hits[0].page == 2
    assert "thirty (30) days" in hits[0].text
    page = library.page_text(hits[0].doc_id, hits[0].page)
    assert page[hits[0].start : hits[0].end] == hits[0].text
    docs = {d.name: d for d in library.documents()}
    assert docs["zero.pdf"].status is DocStatus.FAILED and "empty" in docs["zero.pdf"].error
    _consistent(library)


def test_reingest_unchanged_changed_and_remove(library: Library, tmp_path: Path) -> None:
    f = make_text_pdf(tmp_path / "lease.pdf", [["The rent is 1,000 dollars per month, due on the first day."]])
    assert library.ingest([f]).results[0].outcome is Outcome.INDEXED
    before = library.manifest.count_chunks()
    assert library.ingest([f]).results[0].outcome is Outcome.UNCHANGED
    assert library.manifest.count_chunks() == before
    make_text_pdf(f, [["The rent is 2,500 dollars per month, payable quarterly in advance."]])
    assert library.ingest([f]).results[0].outcome is Outcome.REPLACED
    hits = library.search("rent per month", 5)
    assert any("2,500" in h.text for h in hits) and not any("1,000" in h.text for h in hits)
    _consistent(library)
    (doc,) = library.find("lease.pdf")
    library.remove([doc.id])
    assert library.documents() == [] and library.manifest.count_chunks() == 0
    assert library.index.count() == 0 and library.search("rent", 5) == []
    fts = library.manifest._db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'rent'")
    assert fts.fetchone()[0] == 0


def test_failed_reingest_keeps_good_version(library: Library, tmp_path: Path) -> None:
    f = make_text_pdf(tmp_path / "policy.pdf", [["Visiting hours are from 9am to 5pm."]])
    library.ingest([f])
    make_encrypted_pdf(tmp_path / "enc.pdf", f)
    shutil.copy(tmp_path / "enc.pdf", f)
    report = library.ingest([f])
    assert report.results[0].outcome is Outcome.FAILED and "password" in report.results[0].reason
    assert library.search("visiting hours", 1)[0].text.startswith("Visiting hours")


def test_folders_are_walked_recursively(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "Matter 12, Smith v Jones"
    (root / "letters" / "2026").mkdir(parents=True)
    make_text_pdf(root / "claim.pdf", [["The claimant seeks damages of 50,000."]])
    make_text_pdf(root / "letters" / "2026" / "reply, final.pdf", [["We deny all liability."]])
    (root / "Thumbs.db").write_bytes(b"\x00\x01")
    report = library.ingest([root])
    names = sorted(r.name for r in report.results)
    assert names == ["Matter 12, Smith v Jones/claim.pdf", "Matter 12, Smith v Jones/letters/2026/reply, final.pdf"]
    assert library.search("liability", 1)[0].file.endswith("reply, final.pdf")


def test_cancel_stops_between_batches(library: Library, cuad: Path) -> None:
    files = sorted((cuad / "pdf").iterdir())[:6]
    token = CancelToken()
    events: list[Progress] = []

    def progress(e: Progress) -> None:
        events.append(e)
        if e.stage == "embed" and e.chunks > 0:
            token.set()

    t0 = time.monotonic()
    report = library.ingest(files, progress=progress, cancel=token)
    assert report.cancelled
    assert report.count(Outcome.CANCELLED) >= 1
    assert time.monotonic() - t0 < 60
    _consistent(library)
    # The next run picks up where the cancelled one stopped.
    again = library.ingest(files)
    assert not again.cancelled and not again.failed
    assert len(library.documents()) == 6
    _consistent(library)


def test_recovers_after_kill_mid_ingest(tmp_path: Path, cuad: Path, embedder) -> None:
    """SIGKILL the CLI while it embeds; reopening leaves a consistent, usable library."""
    lib_dir = tmp_path / "lib"
    files = [str(p) for p in sorted((cuad / "pdf").iterdir())[:8]]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "--library", str(lib_dir), "ingest", *files],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=REPO,
    )
    assert proc.stderr is not None
    seen = 0
    for line in proc.stderr:
        if line.startswith(("1/", "2/", "3/")):
            seen += 1
            if seen >= 2:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with Library(lib_dir, embedder) as lib:
        _consistent(lib)
        n = len([d for d in lib.documents() if d.status is DocStatus.READY])
        assert 1 <= n < 8
        report = lib.ingest(files)
        assert not report.failed
        assert len(lib.documents()) == 8
        _consistent(lib)


def test_interrupted_document_is_completed_from_manifest(library: Library, sample_pdf: Path) -> None:
    """A document whose vectors never reached Chroma is repaired on open, without re-embedding."""
    original_add = library.index.add

    def crash(*a, **k):
        raise KeyboardInterrupt  # what a kill between the two writes looks like

    library.index.add = crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        library.ingest([sample_pdf])
    library.index.add = original_add  # type: ignore[method-assign]
    assert library.manifest.documents_with_status(DocStatus.INDEXING)
    root = library.root
    library.close()
    with Library(root, library.embedder) as again:
        _consistent(again)
        assert again.search("governing law", 1)[0].file == "sample-mutual-nda.pdf"


def test_index_rebuilds_from_manifest_when_lost(library: Library, sample_pdf: Path) -> None:
    library.ingest([sample_pdf])
    expected = library.manifest.count_chunks()
    root = library.root
    library.close()
    shutil.rmtree(root / "index")
    with Library(root, library.embedder) as again:
        assert again.index.count() == expected
        assert again.search("Oregon law", 1)[0].page == 2


def test_empty_library_search(library: Library) -> None:
    assert library.search("anything", 5) == []
