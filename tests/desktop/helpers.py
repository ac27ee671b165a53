"""Small helpers shared by the desktop tests."""

from __future__ import annotations

from pathlib import Path

from desktop.jobs import Job
from desktop.main_window import MainWindow
from desktop.smoke import drop_files


def drop_and_wait(qtbot, window: MainWindow, files: list[Path], timeout: int = 60_000) -> Job:
    """Drop ``files`` on the window and wait until their ingest job has ended."""
    with qtbot.waitSignal(window.ingest_started, timeout=5_000) as started:
        drop_files(window, files)
    job: Job = started.args[0]
    if job.running:
        qtbot.waitSignal(job.ended, timeout=timeout).wait()
    qtbot.waitUntil(lambda: window.documents.job is None, timeout=5_000)
    return job
