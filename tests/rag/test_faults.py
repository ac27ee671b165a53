"""Damaged, truncated, deleted and read-only library files never end in a traceback or a
Rust panic: each command either works (the search index rebuilt from the manifest, with
a note) or says in one line what is wrong and what to do, exit 1.

Real parts throughout: a library of three tiny documents made once per module (real
SQLCipher, Chroma and embedder), copied per case; the CLI's ``main`` runs in-process
(a Chroma panic is catchable here) and in a subprocess only where the case needs another
account (read-only). Every page of both databases is damaged in turn; the case count is
in the test ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO, TEST_PASSPHRASE

DOCS = {
    "lease.txt": "The lease term is five years.\n\nRent is 1200 euros per month, payable on the first day.\n",
    "notes.md": "# Visit\n\nThe patient was prescribed metformin 500 mg twice daily.\n",
    "fees.md": "# Fees\n\nThe retainer is 18500 dollars, billed quarterly.\n",
}
NAMES = sorted(f"docs/{n}" for n in DOCS)
PAGE = 4096  # both databases' page size, checked against their headers below
DAMAGED_NOTE = "The search index was damaged and has been rebuilt from the library (3 passages)."
MISSING_NOTE = "The search index was missing and has been rebuilt from the library (3 passages)."
CATALOGUE = "error: this library's catalogue ("
READ_ONLY = "error: this library is read-only here ("


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """A library of three documents (key behind the passphrase, as the CLI opens it)."""
    from rag.library import Library
    from rag.store.keys import KeySource

    base = tmp_path_factory.mktemp("faults")
    docs = base / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    old = os.getcwd()
    os.chdir(base)  # names are listed relative to what was ingested: "docs/lease.txt"
    try:
        with Library(base / "lib", embedder, keys=KeySource(keychain=False)) as lib:
            assert not lib.ingest([Path("docs")]).failed
    finally:
        os.chdir(old)
    return base / "lib"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], embedder):
    """``docqa ARGS...`` in this process: (exit code, stdout, stderr), the session's real
    embedder shared instead of loading the model per command."""
    import rag.library
    from rag.cli import main as cli_mod

    monkeypatch.setattr(rag.library, "SentenceTransformerEmbedder", lambda: embedder)

    def run(lib: Path, *args: str) -> tuple[int, str, str]:
        capfd.readouterr()
        try:
            rc = cli_mod.main(["--library", str(lib), *args])
        except SystemExit as stop:
            rc = int(stop.code or 0)
        out, err = capfd.readouterr()
        assert "Traceback" not in err + out and "panicked" not in err + out, err
        return rc, out, err

    return run


def _copy(pristine: Path, tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    shutil.copytree(pristine, lib)
    return lib


def _pages(path: Path) -> int:
    head = path.read_bytes()[:100]
    if head.startswith(b"SQLite format 3\x00"):
        assert int.from_bytes(head[16:18], "big") == PAGE
    return path.stat().st_size // PAGE


def _damage(path: Path, page: int) -> None:
    """Overwrite page ``page`` (1-based) with garbage that no checksum or HMAC accepts."""
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * PAGE)
        fh.write(hashlib.sha512(str(page).encode()).digest() * (PAGE // 64))


def _integrity(path: Path) -> bool:
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finally:
            db.close()
    except sqlite3.Error:
        return False


def _listed(out: str) -> list[str]:
    return sorted(d["file"] for d in json.loads(out))


def _one_line(err: str, start: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(start), err


# -- the vector index (derived: repaired in the same run) ---------------------------------
INDEX_PAGES = 48  # of the pristine library's index/chroma.sqlite3 (asserted below)


@pytest.mark.slow
@pytest.mark.parametrize("page", range(1, INDEX_PAGES + 1), ids=lambda p: f"index-page-{p}-of-{INDEX_PAGES}")
def test_damaged_index_page_is_rebuilt_in_the_same_run(pristine: Path, tmp_path: Path, cli, page: int) -> None:
    assert _pages(pristine / "index" / "chroma.sqlite3") == INDEX_PAGES
    lib = _copy(pristine, tmp_path)
    chroma = lib / "index" / "chroma.sqlite3"
    _damage(chroma, page)
    detectable = not _integrity(chroma)
    rc, out, err = cli(lib, "search", "monthly rent", "--json")
    assert rc == 0, err
    assert json.loads(out)[0]["file"] == "docs/lease.txt"
    assert err.strip() in ({DAMAGED_NOTE} if detectable else {"", DAMAGED_NOTE}), err
    assert _integrity(chroma)  # never left damaged behind a success
    assert len([p for p in (lib / "index").iterdir() if p.is_dir()]) == 1
    rc, out, _ = cli(lib, "list", "--json")
    assert rc == 0 and _listed(out) == NAMES


INDEX_FILES = ["chroma.sqlite3", "data_level0.bin", "header.bin", "length.bin", "link_lists.bin"]
INDEX_CASES = [(f, how) for f in INDEX_FILES for how in ("truncated-to-0", "truncated-to-half", "deleted")]
INDEX_CASES += [("segment folder", "deleted"), ("index folder", "deleted")]


@pytest.mark.parametrize(("what", "how"), INDEX_CASES,
                         ids=[f"index-{w.replace(' ', '-')}-{h}-of-{len(INDEX_CASES)}" for w, h in INDEX_CASES])
def test_truncated_or_deleted_index_file_is_rebuilt(pristine: Path, tmp_path: Path, cli, what: str,
                                                    how: str) -> None:
    lib = _copy(pristine, tmp_path)
    index = lib / "index"
    segment = next(p for p in index.iterdir() if p.is_dir())
    if what == "index folder":
        shutil.rmtree(index)
    elif what == "segment folder":
        shutil.rmtree(segment)
    else:
        target = index / what if what == "chroma.sqlite3" else segment / what
        if how == "deleted":
            target.unlink()
        else:
            os.truncate(target, 0 if how == "truncated-to-0" else target.stat().st_size // 2)
    rc, out, err = cli(lib, "search", "monthly rent", "--json")
    assert rc == 0, err
    assert json.loads(out)[0]["file"] == "docs/lease.txt"
    assert err.strip() in ("", DAMAGED_NOTE, MISSING_NOTE), err
    rc, out, _ = cli(lib, "list", "--json")
    assert rc == 0 and _listed(out) == NAMES
    assert _integrity(index / "chroma.sqlite3")


# -- the manifest (the truth: damage is reported, never papered over) ---------------------
MANIFEST_PAGES = 24


@pytest.mark.slow
@pytest.mark.parametrize("page", range(1, MANIFEST_PAGES + 1),
                         ids=lambda p: f"manifest-page-{p}-of-{MANIFEST_PAGES}")
def test_damaged_manifest_page_is_reported_in_one_line(pristine: Path, tmp_path: Path, cli, page: int) -> None:
    assert _pages(pristine / "manifest.sqlite3") == MANIFEST_PAGES
    lib = _copy(pristine, tmp_path)
    _damage(lib / "manifest.sqlite3", page)
    for args in (["list", "--json"], ["search", "monthly rent", "--json"], ["rebuild-index"]):
        rc, out, err = cli(lib, *args)
        if rc == 0:  # a page this command never reads: what it says is still right
            if args[0] == "list":
                assert _listed(out) == NAMES
            if args[0] == "search":
                assert json.loads(out)[0]["file"] == "docs/lease.txt"
        else:
            assert rc == 1
            _one_line(err, CATALOGUE)
            assert "your documents themselves are untouched" in err and "backup" in err


MANIFEST_CASES = ["truncated-to-0", "truncated-to-1-page", "truncated-to-half", "deleted", "key-deleted"]


@pytest.mark.parametrize("how", MANIFEST_CASES, ids=[f"manifest-{h}-of-{len(MANIFEST_CASES)}" for h in MANIFEST_CASES])
def test_truncated_or_missing_manifest_is_reported_and_nothing_made_in_its_place(
        pristine: Path, tmp_path: Path, cli, how: str) -> None:
    lib = _copy(pristine, tmp_path)
    manifest = lib / "manifest.sqlite3"
    if how == "deleted":
        manifest.unlink()
    elif how == "key-deleted":
        (lib / "key.json").unlink()
    else:
        size = {"truncated-to-0": 0, "truncated-to-1-page": PAGE}.get(how, manifest.stat().st_size // 2)
        os.truncate(manifest, size)
    before = sorted(p.name for p in lib.iterdir())
    for args in (["list"], ["search", "rent"], ["ingest", str(tmp_path)]):
        rc, _, err = cli(lib, *args)
        assert rc == 1, err
        _one_line(err, "error: this library's key file (" if how == "key-deleted" else CATALOGUE)
    assert sorted(p.name for p in lib.iterdir()) == before  # no new key, no empty catalogue


def test_after_a_damaged_catalogue_a_new_library_gets_every_document_back(
        pristine: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented way forward: the user's files were never touched, so a new library
    made from them holds every document again."""
    docs = pristine.parent / "docs"
    before = {p.name: p.read_bytes() for p in docs.iterdir()}
    lib = _copy(pristine, tmp_path)
    _damage(lib / "manifest.sqlite3", 2)
    rc, _, err = cli(lib, "list")
    assert rc == 1 and CATALOGUE in err
    assert {p.name: p.read_bytes() for p in docs.iterdir()} == before
    monkeypatch.chdir(pristine.parent)
    rc, _, err = cli(tmp_path / "new", "ingest", "docs")
    assert rc == 0, err
    rc, out, _ = cli(tmp_path / "new", "list", "--json")
    assert _listed(out) == NAMES


# -- rebuilding -------------------------------------------------------------------------
def test_rebuild_builds_aside_and_leaves_one_segment(pristine: Path, tmp_path: Path, cli) -> None:
    lib = _copy(pristine, tmp_path)
    for _ in range(2):
        rc, out, err = cli(lib, "rebuild-index")
        assert rc == 0 and "3 chunks" in out, err
    assert sorted(p.name for p in lib.iterdir() if p.name.startswith("index")) == ["index"]
    assert len([p for p in (lib / "index").iterdir() if p.is_dir()]) == 1


def test_a_failed_rebuild_keeps_the_old_index(pristine: Path, tmp_path: Path, cli,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.store.index_repair

    lib = _copy(pristine, tmp_path)
    old = sorted(p.name for p in (lib / "index").iterdir())

    def full_disk(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rag.store.index_repair.ChromaIndex, "add", full_disk)
    rc, _, err = cli(lib, "rebuild-index")
    assert rc == 1 and err.startswith("error: [Errno 28] No space left on device"), err
    monkeypatch.undo()
    assert sorted(p.name for p in (lib / "index").iterdir()) == old
    rc, out, err = cli(lib, "search", "monthly rent", "--json")
    assert rc == 0 and err == "" and json.loads(out)[0]["file"] == "docs/lease.txt"
    assert not (lib / "index.new").exists()  # the unfinished copy is cleared on open


def test_a_kill_between_the_two_renames_loses_nothing(pristine: Path, tmp_path: Path, cli) -> None:
    lib = _copy(pristine, tmp_path)
    shutil.copytree(lib / "index", lib / "index.new")
    (lib / "index").rename(lib / "index.old")
    rc, out, err = cli(lib, "search", "monthly rent", "--json")
    assert rc == 0 and err == "", err
    assert sorted(p.name for p in lib.iterdir() if p.name.startswith("index")) == ["index"]


# -- file modes and first runs -----------------------------------------------------------
def _modes(root: Path) -> set[tuple[str, int]]:
    return {("dir" if p.is_dir() else "file", p.stat().st_mode & 0o777) for p in [root, *root.rglob("*")]}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_library_files_are_private(pristine: Path, tmp_path: Path, cli) -> None:
    lib = _copy(pristine, tmp_path)
    for p in [lib, *lib.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)  # as an earlier version left them
    rc, _, err = cli(lib, "search", "rent")
    assert rc == 0, err
    assert _modes(lib) == {("dir", 0o700), ("file", 0o600)}
    home = tmp_path / "home"
    os.environ["DOCQA_HOME"], saved = str(home), os.environ["DOCQA_HOME"]
    try:
        from rag.cli import main as cli_mod

        assert cli_mod.main(["list"]) == 0
    finally:
        os.environ["DOCQA_HOME"] = saved
    assert _modes(home) == {("dir", 0o700), ("file", 0o600)}


def test_a_refused_first_run_leaves_nothing_behind(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """No keychain and no passphrase: the library is refused, and no folder, lock file or
    key is left behind for the next run to trip over."""
    import rag.store.keys

    monkeypatch.delenv("DOCQA_PASSPHRASE")
    monkeypatch.setattr(rag.store.keys, "secure_keyring", lambda: None)
    rc, _, err = cli(tmp_path / "a" / "lib", "list")
    assert rc == 1 and "set a passphrase" in err
    assert list(tmp_path.iterdir()) == []


# -- read-only libraries (another account's, a read-only share) --------------------------
_RUN = """
import contextlib, io, json, sys
from rag.cli import main as cli
out = []
for args in json.loads(sys.argv[1]):
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            rc = cli.main(args)
        except SystemExit as stop:
            rc = int(stop.code or 0)
    out.append([rc, o.getvalue(), e.getvalue()])
print(json.dumps(out))
"""


def _as_another_account(lib: Path, commands: list[list[str]]) -> list[tuple[int, str, str]]:
    """Run ``commands`` in one subprocess as an account that may read ``lib`` but whose
    write bits are off. As root (CI containers) permissions never stop us, so the copy is
    given to ``nobody`` and the child drops to it; otherwise the bits alone do it."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "DOCQA_PASSPHRASE": TEST_PASSPHRASE,
           "DOCQA_NEW_PASSPHRASE": "another one"}
    drop: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no way to be another account here")
        for p in [lib.parent, lib, *lib.rglob("*")]:
            os.chown(p, 65534, 65534)
        home = lib.parent / "home"
        home.mkdir(exist_ok=True)
        os.chown(home, 65534, 65534)
        env.update(HOME=str(home), DOCQA_HOME=str(home))
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    argv = [["--library", str(lib), *c] for c in commands]
    proc = subprocess.run([*drop, sys.executable, "-c", _RUN, json.dumps(argv)], capture_output=True, text=True,
                          env=env, cwd=lib.parent, timeout=300)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "panicked" not in proc.stderr, proc.stderr
    return [tuple(r) for r in json.loads(proc.stdout)]


READS = [["list", "--json"], ["search", "monthly rent", "--json"]]
WRITES = [["ingest", "docs"], ["remove", "docs/fees.md"], ["sync"], ["rebuild-index"], ["key", "passphrase"],
          ["audit", "questions", "text"]]
READ_ONLY_CASES = ["whole-folder", "database-files-only"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("which", READ_ONLY_CASES,
                         ids=[f"read-only-{w}-{len(READS + WRITES)}-commands-of-{len(READ_ONLY_CASES)}"
                              for w in READ_ONLY_CASES])
def test_read_only_library_is_searched_and_refuses_changes(pristine: Path, which: str) -> None:
    # Not under pytest's tmp_path: its parents are private to this account.
    tmp_path = Path(tempfile.mkdtemp(prefix="docqa-read-only-"))
    os.chmod(tmp_path, 0o755)
    try:
        _read_only_case(pristine, tmp_path, which)
    finally:
        for p in [tmp_path, *tmp_path.rglob("*")]:
            p.chmod(0o700)
        shutil.rmtree(tmp_path)


def _read_only_case(pristine: Path, tmp_path: Path, which: str) -> None:
    lib = _copy(pristine, tmp_path)
    shutil.copytree(pristine.parent / "docs", tmp_path / "docs")
    if which == "whole-folder":
        targets = [lib, *lib.rglob("*")]
    else:
        targets = [lib / "manifest.sqlite3", lib / "index" / "chroma.sqlite3"]
    for p in targets:
        p.chmod(p.stat().st_mode & ~0o222)
    before = {str(p.relative_to(lib)): p.stat().st_mtime_ns for p in lib.rglob("*")}
    results = _as_another_account(lib, READS + WRITES)
    (rc, out, err), (rc2, out2, err2) = results[:2]
    assert rc == 0 and _listed(out) == NAMES and err == "", err
    assert rc2 == 0 and json.loads(out2)[0]["file"] == "docs/lease.txt" and err2 == "", err2
    for args, (rc, _, err) in zip(WRITES, results[2:]):
        assert rc == 1, (args, err)
        _one_line(err, READ_ONLY)
    after = {str(p.relative_to(lib)): p.stat().st_mtime_ns for p in lib.rglob("*")}
    assert after == before  # nothing written, nothing made (no -shm, no lock file)
