"""Watched folders go through the engine's sync; another writer shows up as a status line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.store.lock import WAITING
from tests.helpers.pdfs import make_text_pdf

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _searchable(window, query: str, needle: str) -> bool:
    lib = window.engine.folders.open(window.library)
    return any(needle in p.text for p in lib.search(query, 5))


def test_watched_folder_follows_changes_on_disk(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    folder.mkdir()
    make_text_pdf(folder / "lease.pdf", [["The rent is 1,000 dollars per month."]])
    window._settings().watched_folders = [str(folder)]
    window.libraries.create_library("Followed")
    window.sync_folder(folder)
    qtbot.waitUntil(lambda: _searchable(window, "rent per month", "1,000"), timeout=300_000)
    qtbot.waitUntil(lambda: window.documents.job is None, timeout=10_000)

    t0 = time.monotonic()
    make_text_pdf(folder / "lease.pdf", [["The rent is 2,500 dollars per month."]])
    qtbot.waitUntil(lambda: _searchable(window, "rent per month", "2,500"), timeout=300_000)
    print(f"\nwatched folder: changed file searchable after {time.monotonic() - t0:.1f} s")
    assert not _searchable(window, "rent per month", "1,000")
    qtbot.waitUntil(lambda: window.documents.job is None, timeout=10_000)
    assert "updated 1" in window.documents.result_label.text()

    (folder / "lease.pdf").rename(folder / "lease-signed.pdf")
    qtbot.waitUntil(lambda: [d.name for d in window.engine.folders.open("Followed").documents()]
                    == ["watched/lease-signed.pdf"], timeout=300_000)
    qtbot.waitUntil(lambda: "moved 1" in window.documents.result_label.text(), timeout=10_000)


_HOLD = """
import sys, time
from rag.store.lock import WriteLock
WriteLock(sys.argv[1]).acquire(timeout=5)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_another_window_writing_shows_waiting(qtbot, window, tmp_path: Path) -> None:
    window.libraries.create_library("Shared")
    folder = window.engine.folders.path("Shared")
    make_text_pdf(tmp_path / "memo.pdf", [["The memo sets the fee at 18,500 dollars."]])
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder), "4"], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    window.add_paths([tmp_path / "memo.pdf"])
    qtbot.waitUntil(lambda: WAITING[1:] in window.documents.progress_label.text(), timeout=30_000)
    assert window.documents.job is not None and window.documents.job.running
    qtbot.waitUntil(lambda: window.documents.job is None, timeout=300_000)
    holder.wait(timeout=10)
    assert "1 added" in window.documents.result_label.text()
