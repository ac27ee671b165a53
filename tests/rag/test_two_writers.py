"""Two writers on one library: the lock, its messages, and two concurrent ingests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.cancel import Cancelled, CancelToken
from rag.library import Library
from rag.store.keys import KeySource
from rag.store.lock import BUSY, WAITING, LibraryBusy, WriteLock
from rag.types import DocStatus, Progress
from tests.helpers.pdfs import make_text_pdf

REPO = Path(__file__).resolve().parents[2]

_HOLD = """
import sys, time
from rag.store.lock import WriteLock
lock = WriteLock(sys.argv[1])
lock.acquire(timeout=5)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


# Opened by child processes too, which have no keychain: the key is kept behind the
# test passphrase (DOCQA_PASSPHRASE).
SHARED = KeySource(keychain=False)

def _hold(folder: Path, seconds: float) -> subprocess.Popen[str]:
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder), str(seconds)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_lock_excludes_other_processes_and_dies_with_its_holder(tmp_path: Path) -> None:
    holder = _hold(tmp_path, 60)
    lock = WriteLock(tmp_path)
    heard: list[str] = []
    with pytest.raises(LibraryBusy, match="being updated by another docqa window"):
        lock.acquire(timeout=0.3, on_wait=heard.append)
    assert heard == [WAITING]
    token = CancelToken()
    token.set()
    with pytest.raises(Cancelled):
        lock.acquire(timeout=30, cancel=token)
    # A killed holder leaves no stale lock: the OS drops it with the process.
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    lock.acquire(timeout=5)
    assert lock.held and lock.try_acquire()  # re-entrant for its owner
    lock.release()
    lock.release()
    assert not lock.held


def test_second_writer_waits_for_the_first(tmp_path: Path, embedder) -> None:
    make_text_pdf(tmp_path / "lease.pdf", [["The rent is 1,000 dollars per month."]])
    lib_dir = tmp_path / "lib"
    with Library(lib_dir, embedder, keys=SHARED) as lib:
        holder = _hold(lib_dir, 1.5)
        events: list[Progress] = []
        t0 = time.monotonic()
        report = lib.ingest([tmp_path / "lease.pdf"], progress=events.append)
        assert time.monotonic() - t0 >= 1.0 and not report.failed
        assert events[0].stage == "waiting" and events[0].message == WAITING
        holder.wait(timeout=10)
        # And one that would wait too long says why, in words.
        holder = _hold(lib_dir, 30)
        lib.lock_timeout = 0.2
        with pytest.raises(LibraryBusy) as err:
            lib.remove([d.id for d in lib.documents()])
        assert str(err.value) == BUSY and len(lib.documents()) == 1
        assert lib.search("rent", 1)  # readers keep working meanwhile
        holder.kill()
        holder.wait(timeout=10)


@pytest.mark.slow
def test_two_concurrent_ingests_index_every_document_once(tmp_path: Path, embedder) -> None:
    """Two docqa processes add overlapping folders to one library at the same time."""
    docs = tmp_path / "docs"
    for i in range(8):
        sub = docs / ("a" if i < 5 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        make_text_pdf(sub / f"contract-{i}.pdf", [[f"Contract {i} sets the fee at {1000 + i} dollars."],
                                                    [f"Contract {i} ends after {i + 1} years."]])
    lib_dir = tmp_path / "lib"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "rag.cli", "--library", str(lib_dir), "ingest"]
    procs = [subprocess.Popen([*cmd, *paths], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for paths in ([str(docs)], [str(docs / "b"), str(docs / "a" / "contract-0.pdf")])]
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with Library(lib_dir, embedder, keys=SHARED) as lib:
        paths = [d.path for d in lib.documents()]
        assert len(paths) == len(set(paths)) == 8
        assert all(d.status is DocStatus.READY and d.chunks >= 1 for d in lib.documents())
        ready = {cid for ids, _d, _v in lib.manifest.embeddings() for cid in ids}
        assert lib.index.ids() == ready
        assert lib.manifest.count_chunks() == sum(d.chunks for d in lib.documents())
        for i in range(8):
            hits = lib.search(f"the fee at {1000 + i} dollars", 8)
            assert any(f"{1000 + i} dollars" in h.text for h in hits)
    r = subprocess.run([*cmd[:-1], "list", "--json"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert len(json.loads(r.stdout)) == 8


def test_cli_says_it_waits_then_gives_up(tmp_path: Path, embedder) -> None:
    lib_dir = tmp_path / "lib"
    Library(lib_dir, embedder, keys=SHARED).close()
    make_text_pdf(tmp_path / "lease.pdf", [["The rent is 1,000 dollars per month."]])
    holder = _hold(lib_dir, 120)
    try:
        r = subprocess.run([sys.executable, "-m", "rag.cli", "--library", str(lib_dir), "--wait", "1",
                            "ingest", str(tmp_path / "lease.pdf")], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert r.returncode == 1
    assert WAITING in r.stderr and f"error: {BUSY}" in r.stderr and "Traceback" not in r.stderr
