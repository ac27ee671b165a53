"""Time left for a batch, from the pace of the files finished so far (CLI and desktop)."""

from __future__ import annotations

import time

from rag.types import Progress


def format_left(seconds: float) -> str:
    if seconds < 60:
        return f"about {max(1, int(seconds))} s left"
    if seconds < 3600:
        return f"about {int(seconds // 60)} min {int(seconds % 60)} s left"
    return f"about {int(seconds // 3600)} h {int(seconds % 3600 // 60)} min left"


def eta_text(started: float, done: int, total: int, now: float | None = None) -> str:
    """A rough time left from the average time per finished file ("" until one is done)."""
    if done <= 0 or total <= done:
        return ""
    elapsed = (time.monotonic() if now is None else now) - started
    return format_left(elapsed / done * (total - done))


class Eta:
    """Feed it every :class:`Progress` event; :meth:`text` says the time left.

    The clock starts at the first file that needs work, and files that finish before it
    (unchanged ones, skipped in milliseconds) are not counted in the pace: otherwise a
    re-run over a mostly unchanged folder would promise a minute for an hour's work.
    """

    def __init__(self) -> None:
        self.started = 0.0
        self.base = 0
        self.done = 0
        self.total = 0

    def update(self, p: Progress) -> None:
        if p.stage == "scan" or not p.total:
            return
        if not self.started and p.stage == "embed":  # the first file that needs real work
            self.started = time.monotonic()
            self.base = p.done
        self.done, self.total = p.done, p.total

    def text(self, now: float | None = None) -> str:
        if not self.started:
            return ""
        return eta_text(self.started, self.done - self.base, self.total - self.base, now)
