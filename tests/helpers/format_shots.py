"""Screenshots of the sources list and the viewer for the new formats, from the real app.

    PYTHONPATH=. xvfb-run -a env QT_QPA_PLATFORM=xcb .venv/bin/python -m tests.helpers.format_shots OUTDIR MODEL.gguf

Makes the matter folder (tests/helpers/matter.py), drops it on the window, asks two
questions whose sources include a Word file's section, an e-mail attachment and a
spreadsheet's rows, and saves: the window with each answer's sources list, then the viewer
opened on each of the three sources. Exits 1 with the reason if a source is missing.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QApplication

from desktop.chat_store import Exchange
from desktop.smoke import SmokeRun, drop_files
from rag.types import IngestReport
from tests.helpers.matter import make_matter

# Each question and the sources its answer must show (retrieval decides what is cited).
QUESTIONS = [
    ("How much notice ends the engagement, and what is the monthly rent in the lease?", ("docx", "attachment")),
    ("What was Abernathy Holdings billed for the arbitration retainer?", ("sheet",)),
]
MARKS = {"docx": lambda s: s.file.endswith(".docx") and "›" not in s.file and "¶" in s.location,
         "attachment": lambda s: "›" in s.file, "sheet": lambda s: s.location.startswith("sheet ")}


class Shots(SmokeRun):
    def __init__(self, desktop: object, folder: Path, out: Path) -> None:
        super().__init__(desktop, folder, QUESTIONS[0][0], None)
        self.out = out
        self.asked = 0
        self.todo: list[tuple[str, int, int]] = []  # (label, exchange, source n)

    def start(self) -> None:
        self.window.libraries.create_library("Matter")
        drop_files(self.window, [self.file])
        job = self.window.documents.job
        if job is None:
            self.fail("dropping the folder did not start an ingest")
            return
        job.finished.connect(self._on_ingested)
        job.failed.connect(lambda reason: self.fail(f"ingest failed: {reason}"))

    def _on_ingested(self, report: IngestReport) -> None:
        self.window.chat.answered.connect(self._on_answered)
        self.window.chat.ask(self.question)

    def _on_answered(self, ex: Exchange) -> None:
        i = len(self.window.chat.chat().exchanges) - 1
        for s in ex.sources:
            print(f"[{i}] source [{s.n}] {s.file} | {s.location}")
        for label in QUESTIONS[self.asked][1]:
            hit = next((s for s in ex.sources if MARKS[label](s)), None)
            if hit is None:
                self.fail(f"no {label} source in the answer to {ex.question!r}")
                return
            self.todo.append((label, i, hit.n))
        QTimer.singleShot(300, self._next)

    def _next(self) -> None:
        self.window.grab().save(str(self.out / f"sources-list-{self.asked + 1}.png"))
        self.asked += 1
        if self.asked < len(QUESTIONS):
            self.window.chat.ask(QUESTIONS[self.asked][0])
        else:
            self._shoot()

    def _shoot(self) -> None:
        if not self.todo:
            self.done = True
            QApplication.instance().exit(0)  # type: ignore[union-attr]
            return
        label, i, n = self.todo.pop(0)
        self.window.chat._on_anchor(QUrl(f"passage:{i}:{n}"))
        QTimer.singleShot(300, lambda: (self.window.grab().save(str(self.out / f"viewer-{label}.png")),
                                        self._shoot()))


def run_shots(make_run: Callable[[object, Path, Path], SmokeRun], fill: Callable[[Path], None], out: Path,
              model: str, threads: int = 1, timeout_ms: int = 400_000) -> int:
    """Start the real app in a throw-away home, let ``fill`` make the folder to drop, and
    drive it with ``make_run(desktop, folder, out)`` until it exits; 1 with the reason on failure."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docqa-shots-") as home:
        os.environ["DOCQA_HOME"] = home
        folder = Path(home) / "matter"
        fill(folder)
        from desktop.app import DesktopApp, make_qapplication
        from desktop.settings import Settings

        app = make_qapplication([sys.argv[0]])
        settings = Settings(model_path=model, first_run_done=True, threads=threads)
        desktop = DesktopApp(app, data_dir=Path(home), settings=settings)
        desktop.window.resize(1500, 950)
        desktop.window.show()
        run = make_run(desktop, folder, out)
        QTimer.singleShot(0, run.start)
        QTimer.singleShot(timeout_ms, lambda: run.fail("timed out"))
        app.exec()
        desktop.shutdown()
        if run.error:
            print(f"shots: {run.error}", file=sys.stderr)
            return 1
        print(f"shots: saved in {out}")
        return 0


def main() -> int:
    return run_shots(Shots, make_matter, Path(sys.argv[1]).resolve(), sys.argv[2])


if __name__ == "__main__":
    sys.exit(main())
