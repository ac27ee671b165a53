"""Sync on real parts: files added, changed, deleted, moved and removed on disk, and a
kill in the middle of replacing a changed document."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.ingest.sync import ROOTS_KEY, roots
from rag.library import Library
from rag.store.keys import KeySource
from rag.types import DocStatus
from tests.helpers.pdfs import make_text_pdf

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


# Opened by child processes too, which have no keychain: the key is kept behind the
# test passphrase (DOCQA_PASSPHRASE).
SHARED = KeySource(keychain=False)

def _consistent(lib: Library) -> None:
    assert not lib.manifest.documents_with_status(DocStatus.INDEXING)
    ready = {cid for ids, _d, _v in lib.manifest.embeddings() for cid in ids}
    assert lib.index.ids() == ready


def _texts(lib: Library, query: str) -> list[str]:
    return [p.text for p in lib.search(query, 8)]


def _matter(root: Path) -> Path:
    folder = root / "Matter 7"
    (folder / "letters").mkdir(parents=True)
    make_text_pdf(folder / "lease.pdf", [["The rent is 1,000 dollars per month, due on the first day."]])
    make_text_pdf(folder / "nda.pdf", [["The recipient keeps the pelican formula confidential for five years."]])
    make_text_pdf(folder / "letters" / "notice.pdf", [["Notice of termination must be given in writing."]])
    return folder


def test_sync_follows_add_change_delete_and_move(library: Library, tmp_path: Path) -> None:
    folder = _matter(tmp_path)
    library.ingest([folder])
    assert roots(library.manifest) == [str(folder.resolve())]
    (notice,) = library.find("Matter 7/letters/notice.pdf")
    notice_chunks = library.manifest.chunk_ids(notice.id)

    time.sleep(0.01)  # a new modification time even on coarse clocks
    make_text_pdf(folder / "lease.pdf", [["The rent is 2,500 dollars per month, payable quarterly."]])
    (folder / "nda.pdf").unlink()
    (folder / "archive").mkdir()
    (folder / "letters" / "notice.pdf").rename(folder / "archive" / "notice-final.pdf")
    make_text_pdf(folder / "invoice.pdf", [["Invoice for arbitration services: 18,500 dollars."]])

    report = library.sync()
    assert report.summary() == "added 1, updated 1, removed 1, moved 1, failed 0"
    assert report.moved == [("Matter 7/letters/notice.pdf", "Matter 7/archive/notice-final.pdf")]
    names = sorted(d.name for d in library.documents())
    assert names == ["Matter 7/archive/notice-final.pdf", "Matter 7/invoice.pdf", "Matter 7/lease.pdf"]
    # The move kept its passages and vectors (same ids: nothing was embedded again).
    (moved,) = library.find("Matter 7/archive/notice-final.pdf")
    assert moved.id == notice.id and library.manifest.chunk_ids(moved.id) == notice_chunks
    rent = _texts(library, "rent per month")
    assert any("2,500" in t for t in rent) and not any("1,000" in t for t in rent)
    assert not any("pelican" in t for t in _texts(library, "pelican formula"))
    assert library.search("termination notice in writing", 1)[0].file == "Matter 7/archive/notice-final.pdf"
    _consistent(library)

    # Nothing changed: nothing is read; a touched but identical file is not re-embedded.
    assert library.sync().summary() == "added 0, updated 0, removed 0, moved 0, failed 0 (3 unchanged)"
    os.utime(folder / "invoice.pdf", (time.time() + 5, time.time() + 5))
    again = library.sync()
    assert again.unchanged == 3 and not again.updated


def test_removed_document_stays_out_until_added_again(library: Library, tmp_path: Path) -> None:
    folder = _matter(tmp_path)
    library.ingest([folder])
    (nda,) = library.find("Matter 7/nda.pdf")
    library.remove([nda.id])
    assert library.sync().summary() == "added 0, updated 0, removed 0, moved 0, failed 0 (2 unchanged)"
    assert not library.find("Matter 7/nda.pdf")
    library.ingest([folder / "nda.pdf"])
    assert len(library.documents()) == 3 and library.sync().unchanged == 3


def test_missing_folder_keeps_its_documents(library: Library, tmp_path: Path) -> None:
    """An unplugged drive or an unmounted share is not a deletion."""
    folder = _matter(tmp_path)
    library.ingest([folder])
    shutil.move(str(folder), str(tmp_path / "elsewhere"))
    report = library.sync()
    assert not report.removed and report.missing_roots == [str(folder.resolve())]
    assert len(library.documents()) == 3 and "not found, documents kept" in report.summary()


def test_single_files_and_libraries_from_before_sync(library: Library, tmp_path: Path) -> None:
    folder = _matter(tmp_path)
    library.ingest([folder / "lease.pdf", folder / "letters"])
    # A library written before sync existed: its roots are read back from its documents.
    library.manifest._db.execute("DELETE FROM meta WHERE key=?", (ROOTS_KEY,))
    assert roots(library.manifest) == sorted([str((folder / "lease.pdf").resolve()),
                                              str((folder / "letters").resolve())])
    (folder / "lease.pdf").unlink()
    make_text_pdf(folder / "letters" / "reply.pdf", [["The reply accepts the termination."]])
    report = library.sync()
    assert report.removed == ["lease.pdf"] and report.added == ["letters/reply.pdf"]
    assert "nda.pdf" not in {d.name for d in library.documents()}  # never ingested: not followed


def test_sync_only_given_folder(library: Library, tmp_path: Path) -> None:
    """What the desktop's watcher does: sync one watched folder, which is followed from then on."""
    folder = _matter(tmp_path)
    report = library.sync([folder / "letters"])
    assert report.added == ["letters/notice.pdf"] and len(library.documents()) == 1
    assert roots(library.manifest) == [str((folder / "letters").resolve())]


_KILL = """
import os, sys
from rag.library import Library
from rag.store.vectors import ChromaIndex
stage = sys.argv[2]
if stage == "stored":  # the new version is committed, its vectors not yet sent
    ChromaIndex.add = lambda *a, **k: os._exit(9)
else:  # killed while embedding the new version
    from rag.models.embedder import SentenceTransformerEmbedder
    real = SentenceTransformerEmbedder.embed
    def embed(self, texts):
        if any("2,500" in t for t in texts):
            os._exit(9)
        return real(self, texts)
    SentenceTransformerEmbedder.embed = embed
Library(sys.argv[1]).sync()
"""


@pytest.mark.parametrize(("stage", "expect"), [("embedding", "1,000"), ("stored", "2,500")])
def test_kill_while_replacing_a_changed_file(tmp_path: Path, embedder, stage: str, expect: str) -> None:
    """A kill never leaves a changed document half old and half new, or gone."""
    folder = _matter(tmp_path)
    lib_dir = tmp_path / "lib"
    with Library(lib_dir, embedder, keys=SHARED) as lib:
        lib.ingest([folder])
    make_text_pdf(folder / "lease.pdf", [["The rent is 2,500 dollars per month, payable quarterly."]] * 3)
    r = subprocess.run([sys.executable, "-c", _KILL, str(lib_dir), stage], cwd=REPO, timeout=600,
                       capture_output=True, text=True)
    assert r.returncode == 9, r.stderr[-2000:]
    with Library(lib_dir, embedder, keys=SHARED) as lib:
        _consistent(lib)
        (lease,) = lib.find("Matter 7/lease.pdf")
        pages = [lib.page_text(lease.id, n) for n in range(1, lease.pages + 1)]
        assert all(expect in p for p in pages)
        assert lib.search("rent per month", 1)[0].file == "Matter 7/lease.pdf"
        assert expect in lib.search("rent per month", 1)[0].text
        # Either way the next sync ends on the new version.
        assert len(lib.sync().updated) == (1 if expect == "1,000" else 0)
        assert "2,500" in lib.search("rent per month", 1)[0].text


def test_cli_sync_prints_one_line(tmp_path: Path, embedder) -> None:
    folder = _matter(tmp_path)
    with Library(tmp_path / "lib", embedder, keys=SHARED) as lib:
        lib.ingest([folder])
    (folder / "nda.pdf").unlink()
    r = subprocess.run([sys.executable, "-m", "rag.cli", "--library", str(tmp_path / "lib"), "sync"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("added 0, updated 0, removed 1, moved 0, failed 0 (2 unchanged) (")
