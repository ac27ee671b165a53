"""Running the review grid off the UI thread: the engine fills it on the library's lane
(:meth:`desktop.engine.Engine.review`), each cell is put in the model as it arrives, with
the progress and the time left; Cancel stops between cells and keeps those done.

A mixin of :class:`desktop.review_view.ReviewPanel` (the panel is about what is shown,
this about the job that fills it).
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from desktop.engine import Engine
from desktop.jobs import Job
from desktop.review_model import ReviewModel
from rag.ask.review.cells import Cell
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewProgress, ReviewResult
from rag.ingest.progress_eta import format_left


class ReviewRunning:
    engine: Engine
    library: str
    model: ReviewModel
    job: Job | None
    progress: QProgressBar
    status: QLabel
    cancel_btn: QPushButton
    _rerun: bool
    _pace0: tuple[float, int] | None

    def _update(self) -> None:  # the panel's
        raise NotImplementedError

    def _ran(self, result: ReviewResult) -> None:  # the panel's: emits ``ran``
        raise NotImplementedError

    def run(self, columns: list[Column] | None = None) -> Job | None:
        """Fill the grid (or only ``columns``); while a run goes, stop it and run the
        whole grid after it (cached cells come back at once)."""
        if not self.library or not self.model.columns or not self.model.documents:
            return None
        if self.job is not None:
            self._rerun = True
            self.job.cancel()
            return None
        cols = columns or list(self.model.columns)
        docs = [d.id for d in self.model.documents]
        self.model.set_pending({(d, c.question) for d in docs for c in cols if self.model.cell(d, c) is None})
        self.job = self.engine.review(self.library, cols)
        library = self.library
        # A run of the library shown before (stopping after a switch) must not fill this
        # one's rows: document ids are per library.
        self.job.progressed.connect(lambda v: self._on_progress(v) if library == self.library else None)
        self.job.finished.connect(self._on_ended)
        self.job.cancelled.connect(lambda: self._on_ended(None))
        self.job.failed.connect(self._on_failed)
        self._pace0 = None
        self.progress.setRange(0, len(cols) * len(docs))
        self.progress.setValue(0)
        self.status.setText("Reviewing… (finished cells from earlier runs come back at once)")
        self._update()
        return self.job

    def make_way(self) -> None:
        """Documents are being added: stop the run now (the ingest waits behind it on the
        library's lane) and go on after them; finished cells come back from the cache."""
        if self.job is not None:
            self._rerun = True
            self.job.cancel()
            self.status.setText("Paused while documents are added; the review goes on after them.")

    def cancel(self) -> None:
        if self.job is not None:
            self._rerun = False
            self.job.cancel()
            self.cancel_btn.setEnabled(False)
            self.status.setText("Stopping after the current cell…")

    def _on_progress(self, value: object) -> None:
        if isinstance(value, Cell):
            self.model.set_cell(value)
        elif isinstance(value, ReviewProgress):
            self.progress.setMaximum(value.total)
            self.progress.setValue(value.done)
            cached = value.done - value.computed
            left = self._eta(value)
            eta = f" · {format_left(left)}" if left else ""
            self.status.setText(f"{value.done} of {value.total} cells"
                                + (f" ({cached} from earlier runs)" if cached else "") + eta)

    def _eta(self, p: ReviewProgress) -> float:
        """Seconds left from the pace after the first computed cell: that one also loads
        the index and warms the embedder (seconds), and would promise a minute for ten
        seconds' work. Nothing until three more cells are done."""
        if p.computed and self._pace0 is None:
            self._pace0 = (p.seconds, p.computed)
        if self._pace0 is None or p.computed - self._pace0[1] < 3 or p.done >= p.total:
            return 0.0
        return (p.seconds - self._pace0[0]) / (p.computed - self._pace0[1]) * (p.total - p.done)

    def _on_ended(self, result: ReviewResult | None) -> None:
        job, self.job = self.job, None
        self.model.set_pending(set())
        counts = self.model.counts()
        done = f"{counts['found']} found, {counts['not_stated']} not stated"
        done += f", {counts['failed']} failed" if counts["failed"] else ""
        if result is None:  # cancelled: the cells done are in the grid already
            kept = job.result if job is not None and isinstance(job.result, ReviewResult) else None
            self.status.setText(f"Stopped; the cells done are kept ({done}).")
            result = kept
        else:
            self.status.setText(f"Done: {done}."
                                + (f" {result.computed} computed, {result.cached} from earlier runs." if result.cached else "")
                                + " Click a cell (or Enter) for its quote; V verifies, F flags, F2 overwrites.")
        self._update()
        if result is not None:
            self._ran(result)
        if self._rerun:
            self._rerun = False
            self.run()

    def _on_failed(self, reason: str) -> None:
        self.job = None
        self._rerun = False
        self.model.set_pending(set())
        self.status.setText(f"The review stopped: {reason}")
        self._update()
