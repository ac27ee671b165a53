"""The job runner: results, errors and cancellation reach the UI thread; lanes serialise."""

from __future__ import annotations

import threading
import time

import pytest

from desktop.jobs import JobRunner
from rag.cancel import Cancelled

pytestmark = pytest.mark.gui


def test_result_and_progress_arrive_on_the_ui_thread(qtbot) -> None:
    runner = JobRunner()
    ui = threading.get_ident()
    seen: list[tuple[object, bool]] = []

    def work(ctx):
        ctx.progress(1)
        ctx.progress(2)
        return threading.get_ident()

    job = runner.submit("t", "a", work)
    job.progressed.connect(lambda v: seen.append((v, threading.get_ident() == ui)))
    with qtbot.waitSignal(job.finished) as done:
        pass
    assert done.args[0] != ui  # it ran on a worker
    assert seen == [(1, True), (2, True)]
    assert not runner.active()


def test_errors_reach_a_handler(qtbot) -> None:
    runner = JobRunner()

    def boom(ctx):
        raise ValueError("the file is damaged")

    job = runner.submit("t", "a", boom)
    with qtbot.waitSignal(job.failed) as failed, qtbot.assertNotEmitted(job.finished):
        pass
    assert failed.args == ["the file is damaged"]
    assert "ValueError" in job.error_detail


def test_the_log_keeps_tracebacks_and_rotates(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("desktop.jobs.LOG_LIMIT", 2000)
    log = tmp_path / "docqa.log"
    runner = JobRunner(log_path=log)

    def boom(ctx):
        raise ValueError("the file is damaged")

    for _ in range(12):
        job = runner.submit("t", "a", boom)
        with qtbot.waitSignal(job.failed):
            pass
    old = tmp_path / "docqa.log.1"
    assert "ValueError" in log.read_text() and "ValueError" in old.read_text()
    assert log.stat().st_size < 2000 + 1500 and old.stat().st_size < 2000 + 1500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docqa.log", "docqa.log.1"]


def test_cancel_token_stops_the_job(qtbot) -> None:
    runner = JobRunner()
    started = threading.Event()

    def slow(ctx):
        started.set()
        while True:
            ctx.token.raise_if_set()
            time.sleep(0.01)

    job = runner.submit("t", "a", slow)
    started.wait(5)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        job.cancel()
    assert isinstance(Cancelled(), Exception)


def test_one_lane_runs_one_job_at_a_time(qtbot) -> None:
    runner = JobRunner()
    running = 0
    most = 0
    lock = threading.Lock()

    def work(ctx):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    jobs = [runner.submit(f"j{i}", "llm", work) for i in range(4)]
    qtbot.waitUntil(lambda: not runner.active(), timeout=5000)
    assert most == 1 and all(not j.running for j in jobs)
    assert runner.shutdown()
