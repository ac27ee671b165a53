"""Issue 18 on the desktop: a damaged, busy or read-only library, a rebuilt index, a model
that cannot load, and a failing job never end in a traceback; the app stays up.

Real libraries on disk, damaged by overwriting bytes; the read-only one is a real
read-only bind mount when the tests run as root (root passes every permission bit, and
``os.access`` — what the engine asks — says "not writable" only on a read-only mount),
else the write bits are taken off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.app import LOG_FILE, DesktopApp
from desktop.jobs import JobRunner
from desktop.settings import Settings
from rag.library import Library
from rag.store.lock import WriteLock

pytestmark = pytest.mark.gui

LEASE = ("The tenant pays a monthly rent of 1,200 euros on the first day of each month.\n\n"
         "The lease ends on 31 December 2026 unless renewed in writing by both parties.\n")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def make_library(home: Path, tmp_path: Path, embedder) -> Callable[[str], Path]:
    """A library with one document, made by the engine as the app makes them, then closed."""
    def make(name: str) -> Path:
        doc = tmp_path / "lease.txt"
        doc.write_text(LEASE, encoding="utf-8")
        root = home / "libraries" / name
        with Library(root, embedder) as lib:
            assert not lib.ingest([doc]).failed
        return root

    return make


@pytest.fixture
def start_app(qapp, qtbot, home: Path, embedder) -> Iterator[Callable[..., DesktopApp]]:
    apps: list[DesktopApp] = []

    def start(last: str = "", load_model: bool = False, **settings: object) -> DesktopApp:
        s = Settings(first_run_done=True, last_library=last, context_size=1024, threads=1, **settings)  # type: ignore[arg-type]
        d = DesktopApp(qapp, data_dir=home, settings=s, embedder=embedder, load_model=load_model)
        qtbot.addWidget(d.window)
        d.window.show()
        apps.append(d)
        return d

    yield start
    for d in apps:
        qapp.aboutToQuit.disconnect(d.shutdown)
        d.shutdown()


def _opened(qtbot, d: DesktopApp) -> None:
    """Wait until the last library's opening job has ended (and the window took it in)."""
    qtbot.waitUntil(lambda: not d.runner.active("ingest:"), timeout=60_000)
    qtbot.wait(50)


def test_damaged_catalogue_is_said_in_one_line_and_the_app_goes_on(qtbot, start_app, make_library) -> None:
    root = make_library("Lease")
    with open(root / "manifest.sqlite3", "r+b") as fh:  # the first page: nothing reads past it
        fh.write(os.urandom(4096))
    d = start_app(last="Lease")
    _opened(qtbot, d)
    w = d.window
    banner = w.banner.label.text()
    assert w.banner.isVisible() and w.banner.kind == "problem"
    assert "“Lease” could not be opened" in banner and "catalogue" in banner and "backup" in banner
    assert "Traceback" not in banner and "\n" not in banner
    assert w.library == "" and not w.chat.ask_btn.isEnabled()
    # The user makes another library: it opens, and the problem is gone from the window.
    w.libraries.create_library("Fresh")
    assert w.library == "Fresh" and not w.banner.isVisible()
    # Choosing the damaged one again says it again (opened on demand, not remembered).
    w.libraries.list.setCurrentRow(w.libraries.list.row(w.libraries.list.findItems("Lease", Qt.MatchFlag.MatchExactly)[0]))
    assert w.library == "" and w.banner.kind == "problem" and "catalogue" in w.banner.label.text()


def test_files_dropped_on_a_library_that_will_not_open_are_said_not_raised(
        qtbot, start_app, make_library, tmp_path: Path, monkeypatch) -> None:
    """The passphrase dialog cancelled (or the library damaged since) when files are dropped:
    a banner in one line, nothing added, no exception out of the drop."""
    from rag.store.keys import KeyUnavailable

    make_library("Lease")
    d = start_app(last="Lease")
    _opened(qtbot, d)
    w = d.window
    assert w.library == "Lease"

    def refuse(name: str):
        raise KeyUnavailable("no passphrase was given, so the library stays locked")

    monkeypatch.setattr(d.engine.folders, "open", refuse)
    note = tmp_path / "note.txt"
    note.write_text("A note.", encoding="utf-8")
    assert w.add_paths([note]) is None
    assert w.banner.kind == "problem" and "Traceback" not in w.banner.label.text()
    assert w.documents.job is None


def test_missing_search_index_is_rebuilt_and_said(qtbot, start_app, make_library) -> None:
    root = make_library("Lease")
    shutil.rmtree(root / "index")
    d = start_app(last="Lease")
    _opened(qtbot, d)
    w = d.window
    qtbot.waitUntil(lambda: "rebuilt" in w.statusBar().currentMessage(), timeout=10_000)
    assert w.banner.kind == "note" and "has been rebuilt from the library (" in w.banner.label.text()
    assert w.library == "Lease" and w.documents.model.rowCount() == 1


def test_a_second_maker_of_a_new_library_is_announced_at_once(qtbot, start_app, home: Path) -> None:
    root = home / "libraries" / "New"
    root.mkdir(parents=True)
    other = WriteLock(root)  # another docqa making the same library right now
    other.acquire(1)
    try:
        d = start_app(last="New")
        qtbot.waitUntil(lambda: d.window.statusBar().currentMessage().startswith("Waiting for another docqa"),
                        timeout=15_000)
        assert d.window.library == ""
    finally:
        other.release()
    _opened(qtbot, d)
    assert d.window.library == "New" and not d.window.banner.isVisible()


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only for this process, the way the OS says it to ``os.access``."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p, m in modes.items():
            p.chmod(m & ~0o222)
        try:
            yield
        finally:
            for p, m in modes.items():
                p.chmod(m)
        return
    if shutil.which("mount") is None:
        pytest.skip("root without mount: no way to make a folder read-only for root here")
    bind = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bind.stderr.decode().strip()}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,bind,ro", str(folder), str(folder)], capture_output=True)
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {ro.stderr.decode().strip()}")
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_read_only_library_opens_says_so_and_refuses_changes(qtbot, start_app, make_library, tmp_path: Path) -> None:
    root = make_library("Shared")
    with read_only(root):
        assert not os.access(root, os.W_OK)  # what the engine will decide from
        before = {p.name: p.stat().st_mtime_ns for p in root.rglob("*")}
        d = start_app(last="Shared")
        _opened(qtbot, d)
        w = d.window
        assert w.library == "Shared" and w.read_only
        assert w.windowTitle().endswith("(read-only)")
        assert w.banner.kind == "read-only" and "Searching and asking work" in w.banner.label.text()
        assert not w.documents.add_btn.isEnabled() and "read-only" in w.documents.add_btn.toolTip()
        assert all(not a.isEnabled() and "read-only" in a.toolTip() for a in w.notices.write_actions)
        assert w.add_paths([tmp_path / "lease.txt"]) is None
        assert "read-only" in w.statusBar().currentMessage()
        assert w.sync_library() is None
        # Asking works (no model here: the quotes, found in the manifest's own vectors).
        job = w.chat.ask("What is the monthly rent?")
        assert job is not None
        qtbot.waitSignal(w.chat.answered, timeout=60_000).wait() if w.chat.busy else None
        ex = w.chat.chat().exchanges[-1]  # type: ignore[union-attr]
        assert ex.quotes and "1,200 euros" in ex.quotes[0].text
        assert w.chat.store is not None and w.chat.store.read_only
        after = {p.name: p.stat().st_mtime_ns for p in root.rglob("*")}
        assert after == before and not (root / "chats.sealed").exists()
        d.engine.folders.close_all()  # before the mount goes


def test_model_that_cannot_load_leaves_the_quotes(qtbot, start_app, make_library, tmp_path: Path) -> None:
    make_library("Lease")
    bad = tmp_path / "damaged.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(64_000))
    d = start_app(last="Lease", load_model=True, model_path=str(bad))
    w = d.window
    qtbot.waitUntil(lambda: w.model_label.text().startswith("Quotes only"), timeout=60_000)
    assert w.model_label.text() == "Quotes only: could not load damaged.gguf"
    assert "Failed to load model" in w.model_label.toolTip()
    _opened(qtbot, d)
    with qtbot.waitSignal(w.chat.answered, timeout=60_000):
        w.chat.ask("What is the monthly rent?")
    ex = w.chat.chat().exchanges[-1]  # type: ignore[union-attr]
    assert ex.quotes and "1,200 euros" in ex.quotes[0].text
    assert ex.error == ("Could not answer: could not load damaged.gguf; "
                        "the quotes above are taken word for word from the documents")
    assert "1,200 euros" in w.chat.transcript.toPlainText()


def test_a_failing_job_says_one_line_and_logs_its_traceback(qtbot, start_app, home: Path) -> None:
    d = start_app()

    def boom(ctx: object) -> None:
        raise ValueError("the first line\n  and a second one")

    job = d.runner.submit("Doing something", "test", boom)
    with qtbot.waitSignal(job.failed, timeout=5_000) as failed:
        pass
    assert failed.args == ["the first line"]
    log = (home / LOG_FILE).read_text(encoding="utf-8")
    assert "Doing something failed: the first line" in log and "Traceback" in log and "ValueError" in log
    # Nobody listens to this one: the window still says it, in one line.
    d.runner.submit("Checking", "test", lambda ctx: {}["missing"])
    qtbot.waitUntil(lambda: d.window.statusBar().currentMessage().startswith("Checking: "), timeout=5_000)
    assert "Traceback" not in d.window.statusBar().currentMessage()


def test_one_line_for_an_exception_without_words() -> None:
    from desktop.jobs import one_line

    assert one_line(RuntimeError()) == ("an unexpected problem inside docqa (RuntimeError); "
                                        "details are in the log file")
    assert one_line(OSError("disk full\nmore")) == "disk full"
    assert one_line(KeyError("missing")).startswith("an unexpected problem inside docqa (KeyError)")
    assert JobRunner().log_path is None
