"""The one job runner: every long task runs here, off the UI thread.

A job is a plain function ``fn(ctx) -> result`` that reports progress through
``ctx.progress(value)`` and checks ``ctx.token`` (a :class:`rag.cancel.CancelToken`).
Its outcome comes back to the UI thread as exactly one of the :class:`Job` signals
``finished``, ``failed`` or ``cancelled``; ``progressed`` may fire before that.

Jobs run in *lanes*. A lane is a single-thread pool, so work on a single-owner resource
(the llama context, one library's vector store) is serialised: ``"llm"`` for the model,
``"ingest:<library>"`` for each library's writes.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from rag.cancel import Cancelled, CancelToken


class JobContext:
    """What a running job sees: its cancel token and a way to report progress."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self.token = job.token

    def progress(self, value: object) -> None:
        # Emitted from the worker thread; Qt queues it to the Job's (UI) thread.
        self._job.progressed.emit(value)


class Job(QObject):
    """Handle on one submitted task; signals are delivered on the UI thread."""

    progressed = Signal(object)
    finished = Signal(object)  # the function's return value
    failed = Signal(str)  # a one-line reason for the user
    cancelled = Signal()
    ended = Signal()  # after any of finished / failed / cancelled

    def __init__(self, name: str, lane: str) -> None:
        super().__init__()
        self.name = name
        self.lane = lane
        self.token = CancelToken()
        self.running = True
        self.error_detail = ""
        self.result: Any = None  # also kept when a job stops early (a partial answer)

    def cancel(self) -> None:
        self.token.set()


class _Runnable(QRunnable):
    def __init__(self, job: Job, fn: Callable[[JobContext], Any]) -> None:
        super().__init__()
        self.job = job
        self.fn = fn
        self.setAutoDelete(True)

    def run(self) -> None:
        job = self.job
        try:
            if job.token.is_set:
                raise Cancelled()
            result = self.fn(JobContext(job))
            job.result = result
        except Cancelled:
            job.cancelled.emit()
        except Exception as err:  # noqa: BLE001 (every error must reach a handler)
            job.error_detail = traceback.format_exc()
            job.failed.emit(str(err) or type(err).__name__)
        else:
            if job.token.is_set:
                job.cancelled.emit()
            else:
                job.finished.emit(result)
        job.ended.emit()


class JobRunner(QObject):
    """Owns one single-thread pool per lane; the composition root creates exactly one."""

    started = Signal(object)  # Job
    ended = Signal(object)  # Job

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lanes: dict[str, QThreadPool] = {}
        self._active: set[Job] = set()

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
        self._active.add(job)
        job.ended.connect(lambda: self._on_job_ended(job))
        self.started.emit(job)
        pool.start(_Runnable(job, fn))
        return job

    def _on_job_ended(self, job: Job) -> None:
        job.running = False
        self._active.discard(job)
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
