"""The one job runner: every long task runs here, off the UI thread.

A job is a plain function ``fn(ctx) -> result`` that reports progress through
``ctx.progress(value)`` and checks ``ctx.token`` (a :class:`rag.cancel.CancelToken`).
Its outcome comes back to the UI thread as exactly one of the :class:`Job` signals
``finished``, ``failed`` or ``cancelled``; ``progressed`` may fire before that.

Jobs run in *lanes*. A lane is a single-thread pool, so work on a single-owner resource
(the llama context, one library's vector store) is serialised: ``"llm"`` for the model,
``"ingest:<library>"`` for each library's writes.

A failed job's reason is one line for the user; the full traceback goes to the log file
(in the data folder), never to the screen. A failure nobody listens to is still shown:
the runner re-emits it as :attr:`JobRunner.unhandled`.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import SIGNAL, QObject, QRunnable, Qt, QThreadPool, Signal

from rag.cancel import Cancelled, CancelToken

_BUGS = (LookupError, AttributeError, TypeError, NameError, AssertionError, ZeroDivisionError)


def one_line(err: BaseException) -> str:
    """What a person is shown of ``err``: its first line (engine errors are written as one
    plain line already; a library's may span lines, and a traceback never is shown)."""
    text = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
    # A bug's own words ("'doc_id'", "'NoneType' object ...") mean nothing to a person.
    if not text or isinstance(err, _BUGS):
        return f"an unexpected problem inside docqa ({type(err).__name__}); details are in the log file"
    return text if len(text) <= 300 else text[:297].rstrip() + "…"


class JobContext:
    """What a running job sees: its cancel token and a way to report progress."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self.token = job.token

    def progress(self, value: object) -> None:
        self._job._post_progress(value)


class Job(QObject):
    """Handle on one submitted task; its public signals fire on the UI thread.

    The worker never emits the public signals itself: it leaves progress values in a
    locked queue and the outcome on the job, and wakes the UI thread with argument-less
    queued signals. The UI thread then drains the queue in one go (a fast model cannot
    flood the event queue with one event per token) and emits the public signals, so
    their slots always run on the UI thread, progress strictly before the outcome.
    """

    progressed = Signal(object)
    finished = Signal(object)  # the function's return value
    failed = Signal(str)  # a one-line reason for the user
    cancelled = Signal()
    ended = Signal()  # after any of finished / failed / cancelled

    _progress_posted = Signal()
    _outcome_posted = Signal()

    def __init__(self, name: str, lane: str) -> None:
        super().__init__()
        self.name = name
        self.lane = lane
        self.token = CancelToken()
        self.running = True
        self.error = ""
        self.error_detail = ""
        self.exception: BaseException | None = None  # what failed, for a handler that sorts
        self.outcome = ""  # "finished" | "failed" | "cancelled", set by the worker
        self.result: Any = None  # also kept when a job stops early (a partial answer)
        self._lock = threading.Lock()
        self._pending: deque[object] = deque()
        kind = Qt.ConnectionType.QueuedConnection
        self._progress_posted.connect(self._on_progress_posted, kind)
        self._outcome_posted.connect(self._on_outcome_posted, kind)

    def cancel(self) -> None:
        self.token.set()

    # -- worker side ------------------------------------------------------------------
    def _post_progress(self, value: object) -> None:
        with self._lock:
            self._pending.append(value)
            first = len(self._pending) == 1
        if first:  # one wake-up per batch: a fast model may outrun the UI
            self._progress_posted.emit()

    def _post_outcome(self, outcome: str) -> None:
        self.outcome = outcome
        self._outcome_posted.emit()

    # -- UI side ----------------------------------------------------------------------
    def _on_progress_posted(self) -> None:
        with self._lock:
            values = list(self._pending)
            self._pending.clear()
        for value in values:
            self.progressed.emit(value)

    def _on_outcome_posted(self) -> None:
        self._on_progress_posted()  # progress always arrives before the outcome
        self.running = False
        if self.outcome == "finished":
            self.finished.emit(self.result)
        elif self.outcome == "failed":
            self.failed.emit(self.error)
        else:
            self.cancelled.emit()
        self.ended.emit()


class _Runnable(QRunnable):
    def __init__(self, job: Job, fn: Callable[[JobContext], Any], log: Callable[[Job], None]) -> None:
        super().__init__()
        self.job = job
        self.fn = fn
        self.log = log
        # Python keeps the runnable alive until its job has ended (see JobRunner.submit).
        self.setAutoDelete(False)

    def run(self) -> None:
        job = self.job
        try:
            if job.token.is_set:
                raise Cancelled()
            job.result = self.fn(JobContext(job))
        except Cancelled:
            job._post_outcome("cancelled")
        except Exception as err:  # noqa: BLE001 (every error must reach a handler)
            job.error_detail = traceback.format_exc()
            job.exception = err
            job.error = one_line(err)
            self.log(job)  # here, off the UI thread: the disk may be slow
            job._post_outcome("failed")
        else:
            job._post_outcome("cancelled" if job.token.is_set else "finished")


LOG_LIMIT = 1_000_000  # bytes of tracebacks kept, twice over (the log and the one before)


class JobRunner(QObject):
    """Owns one single-thread pool per lane; the composition root creates exactly one."""

    started = Signal(object)  # Job
    ended = Signal(object)  # Job
    unhandled = Signal(object)  # a failed Job whose ``failed`` nobody was connected to

    def __init__(self, parent: QObject | None = None, log_path: Path | None = None) -> None:
        super().__init__(parent)
        self._lanes: dict[str, QThreadPool] = {}
        self._active: dict[Job, _Runnable] = {}
        self.log_path = log_path
        self._log_lock = threading.Lock()

    def log(self, job: Job) -> None:
        """Append a failed job's traceback to the log file (for a bug report; a person
        sees one line). A log that cannot be written is not worth a second failure."""
        if self.log_path is None:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        try:
            with self._log_lock:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                self._rotate()
                with self.log_path.open("a", encoding="utf-8") as f:
                    f.write(f"{stamp} {job.name} failed: {job.error}\n{job.error_detail}\n")
        except OSError:
            pass

    def _rotate(self) -> None:
        """Past LOG_LIMIT bytes the log becomes ``docqa.log.1`` (the one before is dropped):
        a machine that fails the same way for months must not fill its disk with tracebacks."""
        assert self.log_path is not None
        try:
            if self.log_path.stat().st_size > LOG_LIMIT:
                self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))
        except FileNotFoundError:
            pass

    def submit(self, name: str, lane: str, fn: Callable[[JobContext], Any]) -> Job:
        """Queue ``fn`` on ``lane``; connect to the returned job's signals right away
        (they are queued to this thread, so none can be missed)."""
        job = Job(name, lane)
        pool = self._lanes.get(lane)
        if pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
            pool.setExpiryTimeout(-1)
            self._lanes[lane] = pool
        runnable = _Runnable(job, fn, self.log)
        # A strong reference until the job ends: a queued runnable whose Python wrapper
        # was collected would never run, and its job would never report.
        self._active[job] = runnable
        job.ended.connect(lambda: self._on_job_ended(job))
        self.started.emit(job)
        pool.start(runnable)
        return job

    def _on_job_ended(self, job: Job) -> None:
        self._active.pop(job, None)
        if job.outcome == "failed" and not job.receivers(SIGNAL("failed(QString)")):
            self.unhandled.emit(job)
        self.ended.emit(job)

    def active(self, lane_prefix: str = "") -> list[Job]:
        return [j for j in self._active if j.lane.startswith(lane_prefix)]

    def cancel_all(self) -> None:
        for job in list(self._active):
            job.cancel()

    def shutdown_lane(self, lane: str, timeout_ms: int = 10_000) -> bool:
        """Cancel a lane's jobs and wait for its worker (before its resource goes away)."""
        for job in self.active(lane):
            job.cancel()
        pool = self._lanes.get(lane)
        return pool.waitForDone(timeout_ms) if pool is not None else True

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and wait for the workers; True when all stopped in time."""
        self.cancel_all()
        ok = True
        for pool in self._lanes.values():
            ok = pool.waitForDone(timeout_ms) and ok
        return ok
