"""``docqa-desktop --smoke FILE QUESTION --screenshot OUT.png``: the whole app, end to end.

Offscreen, in a temporary data directory: drop FILE on the window (a real QDropEvent),
wait for the ingest, ask QUESTION, wait for the full answer, open the first citation in
the viewer, save a screenshot, exit 0. Any failure exits 1 with the reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from desktop.chat_store import Exchange
from desktop.jobs import Job
from rag.ask.answer import cited_numbers
from rag.types import DocStatus, IngestReport


def drop_files(widget: object, files: list[Path]) -> None:
    """Send a real drop of ``files`` to ``widget``, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f.resolve())) for f in files])
    centre = QPointF(widget.rect().center())  # type: ignore[attr-defined]
    event = QDropEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    # QApplication.sendEvent() discards a drop when no drag is in progress (Qt 6), so the
    # event goes straight to the widget's event(), which dispatches it to dropEvent().
    widget.event(event)  # type: ignore[attr-defined]


class SmokeRun(QObject):
    def __init__(self, desktop: object, file: Path, question: str, screenshot: Path | None) -> None:
        super().__init__()
        self.d = desktop
        self.window = desktop.window  # type: ignore[attr-defined]
        self.file = file
        self.question = question
        self.screenshot = screenshot
        self.error = ""
        self.done = False

    def fail(self, reason: str) -> None:
        if not self.done:
            self.error = reason
            self.done = True
            QApplication.instance().exit(1)  # type: ignore[union-attr]

    def start(self) -> None:
        self.window.libraries.create_library("Smoke test")
        drop_files(self.window, [self.file])
        job: Job | None = self.window.documents.job
        if job is None:
            self.fail("dropping the file did not start an ingest")
            return
        job.finished.connect(self._on_ingested)
        job.failed.connect(lambda reason: self.fail(f"ingest failed: {reason}"))
        job.cancelled.connect(lambda: self.fail("ingest was cancelled"))

    def _on_ingested(self, report: IngestReport) -> None:
        if report.failed:
            self.fail("could not ingest: " + "; ".join(f"{r.name}: {r.reason}" for r in report.failed))
            return
        docs = self.window.documents.model.documents()
        if not any(d.status is DocStatus.READY for d in docs):
            self.fail("the document table shows no ready document after the ingest")
            return
        self.window.chat.answered.connect(self._on_answered)
        if self.window.chat.ask(self.question) is None:
            self.fail("the question could not be asked")

    def _on_answered(self, ex: Exchange) -> None:
        if ex.error:
            self.fail(ex.error)
            return
        if not ex.sources:
            self.fail(f"the answer has no citations: {ex.answer[:200]!r}")
            return
        # The first source the answer cites (what a user clicks first), else the best passage.
        cited = [n for n in cited_numbers(ex.answer) if any(s.n == n for s in ex.sources)]
        first = next(s for s in ex.sources if s.n == cited[0]) if cited else ex.sources[0]
        self.window.chat._on_anchor(QUrl(f"cite:{len(self.window.chat.chat().exchanges) - 1}:{first.n}"))
        viewer = self.window.viewer
        if viewer.source is None or viewer.current_page != first.page:
            self.fail("the viewer did not open the cited page")
            return
        QTimer.singleShot(200, self._finish)  # let layouts settle before the grab

    def _finish(self) -> None:
        if self.screenshot is not None:
            self.screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not self.window.grab().save(str(self.screenshot)):
                self.fail(f"could not write the screenshot to {self.screenshot}")
                return
        self.done = True
        QApplication.instance().exit(0)  # type: ignore[union-attr]


def seconds_since_process_start() -> float | None:
    """Wall time since this process was started (Linux: /proc), to time a cold start."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5), after pid and comm
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class ExposeTimer(QObject):
    """Notes when the window is first on screen (exposed), as a user would see it."""

    def __init__(self, window: object) -> None:
        super().__init__()
        self.window = window
        self.seconds: float | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._check)
        self._timer.start(10)

    def _check(self) -> None:
        handle = self.window.windowHandle()  # type: ignore[attr-defined]
        if handle is not None and handle.isExposed():
            self.seconds = seconds_since_process_start()
            self._timer.stop()


def run_smoke(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    file = Path(args.smoke[0]).expanduser()
    if not file.is_file():
        print(f"smoke: {file} does not exist", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="docqa-smoke-") as home:
        os.environ["DOCQA_HOME"] = home
        from desktop.app import DesktopApp, make_qapplication
        from desktop.settings import Settings

        app = make_qapplication([sys.argv[0]])
        settings = Settings(model_path=str(args.model or ""), first_run_done=True, threads=args.threads or 0,
                            theme="dark" if args.dark else "system")
        desktop = DesktopApp(app, data_dir=Path(home), settings=settings)
        desktop.window.show()
        shown = ExposeTimer(desktop.window)
        run = SmokeRun(desktop, file, args.smoke[1], args.screenshot)
        QTimer.singleShot(0, run.start)
        QTimer.singleShot(int(args.timeout * 1000), lambda: run.fail(f"timed out after {args.timeout:.0f} s"))
        code = app.exec()
        desktop.shutdown()
        if run.error:
            print(f"smoke: {run.error}", file=sys.stderr)
            return code or 1
        if not run.done:
            print("smoke: the app quit before the test finished", file=sys.stderr)
            return 1
        visible = f"; window visible {shown.seconds:.1f} s after start" if shown.seconds is not None else ""
        print(f"smoke: ok ({desktop.engine.model_state}{visible})")
        return 0
