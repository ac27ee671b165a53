"""Encryption at rest, keys, the audit log and the egress guard, with real parts: a real
keyring backend (in memory), real SQLCipher, real AES-GCM, real sockets (refused)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keyring
import numpy as np
import pytest
from keyring.backends import fail

from rag.library import MANIFEST_FILE, Library, delete_library
from rag.privacy import egress
from rag.store.database import is_plaintext
from rag.store.keys import KEY_FILE, SERVICE, KeySource, KeyUnavailable, WrongKey
from rag.store.manifest import Manifest
from tests.conftest import TEST_PASSPHRASE
from tests.helpers.pdfs import make_text_pdf

REPO = Path(__file__).resolve().parents[2]
PHRASE = "quetzalcoatl-marmalade-7731"
NAME = "Zyxwv-Hospice-Settlement"


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def no_keychain(monkeypatch: pytest.MonkeyPatch):
    """A headless machine: keyring has only its failing backend."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_key_lives_in_the_keychain_and_goes_with_the_library(tmp_path: Path, embedder, memory_keyring,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCQA_PASSPHRASE")  # a keychain needs no passphrase
    root = tmp_path / "lib"
    with Library(root, embedder) as lib:
        assert lib.key_source.startswith("keychain")
    info = json.loads((root / KEY_FILE).read_text())
    assert info["store"] == "keychain" and "secret" not in json.dumps(info)
    stored = keyring.get_password(SERVICE, info["id"])
    assert stored is not None and len(bytes.fromhex(stored)) == 32 and stored not in (root / KEY_FILE).read_text()
    assert not is_plaintext(root / MANIFEST_FILE)
    with Library(root, embedder) as lib:  # opens again with the keychain's key
        assert lib.documents() == []
    delete_library(root)
    assert not root.exists() and keyring.get_password(SERVICE, info["id"]) is None


def test_headless_uses_the_passphrase_and_refuses_a_wrong_one(tmp_path: Path, embedder, no_keychain,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "lib"
    monkeypatch.delenv("DOCQA_PASSPHRASE")
    with pytest.raises(KeyUnavailable, match="no secure keychain"):
        Library(root, embedder)  # fail closed: never a plaintext library
    assert not (root / MANIFEST_FILE).exists()
    monkeypatch.setenv("DOCQA_PASSPHRASE", TEST_PASSPHRASE)
    with Library(root, embedder) as lib:
        assert lib.key_source == "passphrase"
        lib.ingest([make_text_pdf(tmp_path / "a.pdf", [[f"The {PHRASE} clause applies."]])])
    before = _snapshot(root)
    monkeypatch.setenv("DOCQA_PASSPHRASE", "not the passphrase")
    with pytest.raises(WrongKey, match="wrong passphrase"):
        Library(root, embedder)
    assert _snapshot(root) == before  # data untouched
    # A prompt (the CLI's, the app's dialog) is asked when the environment has none.
    monkeypatch.delenv("DOCQA_PASSPHRASE")
    with Library(root, embedder, keys=KeySource(lambda new: TEST_PASSPHRASE)) as lib:
        assert [d.status.value for d in lib.documents()] == ["ready"]


def test_key_changes_rewrap_the_same_key(tmp_path: Path, embedder, memory_keyring,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCQA_PASSPHRASE")
    root = tmp_path / "lib"
    with Library(root, embedder) as lib:
        lib.ingest([make_text_pdf(tmp_path / "a.pdf", [[f"The {PHRASE} clause applies."]])])
        lib_id = json.loads((root / KEY_FILE).read_text())["id"]
        lib.change_key("passphrase", "to take it to another computer")  # out of the keychain
    assert keyring.get_password(SERVICE, lib_id) is None
    with pytest.raises(KeyUnavailable):
        Library(root, embedder)  # no passphrase given
    monkeypatch.setenv("DOCQA_PASSPHRASE", "to take it to another computer")
    with Library(root, embedder) as lib:
        assert lib.key_source == "passphrase" and len(lib.documents()) == 1
        lib.change_key("keychain")
        events = [e.event for e in lib.audit.verify().entries]
        assert events.count("key changed") == 2 and lib.audit.verify().ok
    monkeypatch.delenv("DOCQA_PASSPHRASE")
    with Library(root, embedder) as lib:
        assert lib.key_source.startswith("keychain") and len(lib.documents()) == 1


def test_wrong_passphrase_on_the_cli_is_one_line(tmp_path: Path, embedder) -> None:
    root = tmp_path / "lib"
    env = {**os.environ, "DOCQA_PASSPHRASE": TEST_PASSPHRASE}
    run = [sys.executable, "-m", "rag.cli", "--library", str(root)]
    assert subprocess.run([*run, "list"], env=env, capture_output=True, cwd=REPO).returncode == 0
    before = _snapshot(root)
    r = subprocess.run([*run, "list"], env={**env, "DOCQA_PASSPHRASE": "nope"}, capture_output=True,
                       text=True, cwd=REPO, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "wrong passphrase" in r.stderr and _snapshot(root) == before


def test_cli_privacy_and_audit(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    env = {**os.environ, "DOCQA_PASSPHRASE": TEST_PASSPHRASE}

    def docqa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rag.cli", "--library", str(root), *args], env=env,
                              capture_output=True, text=True, cwd=REPO, stdin=subprocess.DEVNULL)

    assert docqa("search", "anything at all").returncode == 0
    report = json.loads(docqa("privacy", "--json").stdout)
    assert report["guard"].startswith("on") and report["manifest"].startswith("encrypted")
    assert report["key_store"].startswith("behind a passphrase") and report["disk_encryption"]
    r = docqa("audit", "show")
    assert r.returncode == 0 and "library opened" in r.stdout and "search" in r.stdout
    assert "anything" not in r.stdout  # a keyed hash, not the question
    assert docqa("audit", "verify").returncode == 0
    log = root / "audit.log"
    log.write_bytes(log.read_bytes().replace(b'"search"', b'"searcH"'))
    r = docqa("audit", "verify")
    assert r.returncode == 1 and "TAMPERED" in r.stdout and "Traceback" not in r.stderr


def _plaintext_library(root: Path, embedder, pages: int = 1) -> None:
    """A library as main wrote it before encryption: a plain SQLite manifest (the very
    same schema, through the same code with no key) and a plaintext chats.json."""
    from rag.ingest.chunking import ChunkerConfig, StructuredChunker
    from rag.types import Page, ParsedDocument

    root.mkdir(parents=True)
    m = Manifest(root / MANIFEST_FILE)
    body = [Page(i + 1, f"Page {i + 1}. The {PHRASE} clause applies. " + "Filler text. " * 300)
            for i in range(pages)]
    parsed = ParsedDocument(body, "pdf", NAME)
    chunks = StructuredChunker(ChunkerConfig()).chunk(parsed)
    # Real vectors for a library that is searched; for a big one only its size matters.
    vectors = (embedder.embed([c.text for c in chunks]) if pages == 1
               else np.random.default_rng(0).standard_normal((len(chunks), 384)).astype(np.float32))
    doc, _, _ = m.begin_document(path=f"/docs/{NAME}.pdf", name=f"{NAME}.pdf", sha256="0" * 64, size=1,
                                 parsed=parsed, chunks=chunks, vectors=vectors)
    m.mark_ready(doc)
    m.set_meta("embedder", embedder.name)
    m.close()
    (root / "chats.json").write_text(json.dumps({"version": 2, "chats": [
        {"id": "c1", "title": PHRASE, "created_at": 1.0, "exchanges": []}]}))
    assert is_plaintext(root / MANIFEST_FILE) and PHRASE.encode() in (root / MANIFEST_FILE).read_bytes()


def test_a_plaintext_library_is_migrated_on_first_open(tmp_path: Path, embedder) -> None:
    root = tmp_path / "old"
    _plaintext_library(root, embedder)
    steps: list[float] = []
    with Library(root, embedder, migration=lambda step, frac: steps.append(frac)) as lib:
        assert steps[0] == 0.0 and steps[-1] == 1.0
        assert [d.name for d in lib.documents()] == [f"{NAME}.pdf"]
        assert PHRASE in lib.search(f"{PHRASE} clause", 1)[0].text
        assert [e.event for e in lib.audit.verify().entries][-3:] == ["library encrypted", "library opened", "search"]
    assert not is_plaintext(root / MANIFEST_FILE)
    assert not list(root.glob("*.encrypting*"))
    from desktop.chat_store import ChatStore

    with Library(root, embedder) as lib:
        assert ChatStore(root, lib.files).chats[0].title == PHRASE
    assert not (root / "chats.json").exists()
    for f in root.rglob("*"):
        if f.is_file():
            assert PHRASE.encode() not in f.read_bytes(), f


def test_a_kill_mid_migration_loses_nothing(tmp_path: Path, embedder) -> None:
    """A real kill (os._exit) while the encrypted copy is being written: the plaintext
    library is intact, and the next open finishes the job."""
    root = tmp_path / "old"
    _plaintext_library(root, embedder, pages=60)
    kill = (
        "import os, sys; import rag\n"
        "from rag.store.keys import KeySource; from rag.store.manifest import Manifest\n"
        "key = KeySource().get(__import__('pathlib').Path(sys.argv[1])).derive('manifest')\n"
        "def progress(step, frac):\n"
        "    if 0 < frac < 1: os._exit(9)\n"
        "Manifest(__import__('pathlib').Path(sys.argv[1]) / 'manifest.sqlite3', key, progress)\n"
        "os._exit(0)\n"
    )
    r = subprocess.run([sys.executable, "-c", kill, str(root)], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 9, r.stderr  # killed in the middle
    assert is_plaintext(root / MANIFEST_FILE) and (root / "manifest.sqlite3.encrypting").exists()
    with Library(root, embedder) as lib:
        assert [d.name for d in lib.documents()] == [f"{NAME}.pdf"]
    assert not is_plaintext(root / MANIFEST_FILE) and not (root / "manifest.sqlite3.encrypting").exists()


def test_audit_log_detects_edits_removals_reordering_and_truncation(library: Library) -> None:
    library.search("what is the notice period?", 3)
    library.record_export("docx", 2)
    log = library.audit.path
    good = log.read_bytes()
    lines = good.splitlines(keepends=True)
    assert library.audit.verify().ok and len(lines) >= 4
    assert b"notice period" not in good  # only a keyed hash of the question

    def tampered(data: bytes) -> list[str]:
        log.write_bytes(data)
        try:
            return library.audit.verify().problems
        finally:
            log.write_bytes(good)

    i = good.index(b'"format": "docx"') + len(b'"format": "')
    assert tampered(good[:i] + b"p" + good[i + 1:])  # one changed byte ("pocx")
    assert tampered(b"".join(lines[:1] + lines[2:]))  # a removed line
    assert tampered(b"".join([lines[1], lines[0], *lines[2:]]))  # two lines swapped
    assert tampered(b"".join(lines[:-1]))  # the last line cut off
    assert library.audit.verify().ok


def test_question_text_only_if_opted_in(library: Library) -> None:
    library.set_logs_question_text(True)
    library.search(f"what does {PHRASE} mean?", 1)
    entry = library.audit.verify().entries[-1]
    assert PHRASE.encode() not in library.audit.path.read_bytes()  # sealed
    assert PHRASE in library.audit.open_text(entry.data["text"])


def test_egress_guard_refuses_other_hosts_and_records_them(library: Library) -> None:
    assert egress.installed()
    with pytest.raises(egress.EgressBlocked, match="offline"):
        socket.create_connection(("192.0.2.7", 443), timeout=1)  # TEST-NET: never routed
    with pytest.raises(egress.EgressBlocked):
        socket.getaddrinfo("example.org", 443)
    with pytest.raises(egress.EgressBlocked):
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.7", 53))
    assert "192.0.2.7:443" in [a.target for a in egress.attempts()]
    blocked = [e for e in library.audit.verify().entries if e.event == "connection blocked"]
    assert {"192.0.2.7:443", "example.org:443"} <= {e.data["to"] for e in blocked}
    # This computer stays reachable: loopback servers (a local model server, say) work.
    with socket.create_server(("127.0.0.1", 0)) as server:
        socket.create_connection(server.getsockname(), timeout=1).close()


def test_guard_is_on_in_a_fresh_process() -> None:
    probe = "import rag, socket\ntry:\n    socket.create_connection(('192.0.2.7', 80), timeout=1)\nexcept PermissionError as e:\n    print(e)"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
    assert "docqa blocked a network connection to 192.0.2.7:80" in r.stdout


@pytest.mark.slow
def test_no_file_in_the_library_holds_the_text_or_the_name(tmp_path: Path, embedder, tiny_gguf: Path) -> None:
    """Ingest a document with a unique phrase and a distinctive file name, ask about it,
    then read every byte of every file in the library folder (SQLite, WAL, Chroma)."""
    from desktop.chat_store import ChatStore, Exchange
    from rag.ask.generation import LlamaGenerator

    doc = make_text_pdf(tmp_path / f"{NAME}.pdf", [[f"The {PHRASE} clause: payment within 45 days."]])
    root = tmp_path / "lib"
    lib = Library(root, embedder)
    try:
        lib.ingest([doc])
        gen = LlamaGenerator(tiny_gguf, context_size=2048)
        ans = lib.ask(f"What does the {PHRASE} clause say?", gen)
        assert PHRASE in lib.search(PHRASE, 1)[0].text
        store = ChatStore(root, lib.files)  # the app's chat history, saved as the app does
        ex = Exchange(f"What does the {PHRASE} clause say?")
        ex.set_answer(ans)
        store.current().exchanges.append(ex)
        store.save()
        gen.close()
        files = [p for p in root.rglob("*") if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files)  # the WAL is scanned while live
        leaks = _leaks(files)
    finally:
        lib.close()
    leaks += _leaks([p for p in root.rglob("*") if p.is_file()])
    assert leaks == []


def _leaks(files: list[Path]) -> list[str]:
    needles = [s.encode(enc) for s in (PHRASE, NAME) for enc in ("utf-8", "utf-16-le")]
    needles += [PHRASE.split("-")[0].encode(), b"Zyxwv"]
    return [f"{p.name}: {n!r}" for p in files for n in needles if n in p.read_bytes()]
