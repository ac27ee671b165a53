"""Screenshots of answers from medical reports, from the real app (issue 22).

    PYTHONPATH=. xvfb-run -a env QT_QPA_PLATFORM=xcb .venv/bin/python -m tests.helpers.medical_shots OUTDIR [MODEL.gguf]

Copies eight reports of medical-dev into a folder (three tonsillectomy-and-adenoidectomy
notes told apart only by their number, two gastric-bypass consults likewise, and
neighbours), drops it on the window and asks questions that name one report. For each it
saves the window with the answer and its sources, then the viewer opened on the first
source, where the quoted section is highlighted. Exits 1 with the reason when a source is
not from the report the question names: another patient's report must not answer.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QApplication

from desktop.chat_store import Exchange
from desktop.smoke import SmokeRun, drop_files
from rag.types import IngestReport
from tests.helpers.format_shots import run_shots

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "medical-dev" / "docx"
REPORTS = ["001 Laparoscopic Gastric Bypass Consult - 2.docx", "002 Laparoscopic Gastric Bypass Consult - 1.docx",
           "021 Gastric Bypass Summary.docx", "265 Tonsillectomy  Adenoidectomy - 5.docx",
           "267 Tonsillectomy  Adenoidectomy - 3.docx", "273 Tonsillectomy  Adenoidectomy - 2.docx",
           "271 Tonsillectomy.docx", "269 Tonsillectomy and Septoplasty.docx"]
# (question, the report every source must come from, the screenshot's name)
QUESTIONS = [
    ("Were there any complications in the tonsillectomy and adenoidectomy #3?", "267 ", "complications"),
    ("What was the EBL for the tonsillectomy adenoidectomy #2?", "273 ", "blood-loss"),
    ("Does the patient in the laparoscopic gastric bypass consult 2 have any drug allergies?", "001 ", "allergies"),
    # Consult 1 states no allergies; consult 2 (another patient) does: nothing of it may show.
    ("Does the patient in the laparoscopic gastric bypass consult 1 have any drug allergies?", "002 ",
     "allergies-not-stated"),
]


class Shots(SmokeRun):
    def __init__(self, desktop: object, folder: Path, out: Path) -> None:
        super().__init__(desktop, folder, QUESTIONS[0][0], None)
        self.out = out
        self.asked = 0

    def start(self) -> None:
        self.window.libraries.create_library("Patient records")
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
        question, prefix, name = QUESTIONS[self.asked]
        i = len(self.window.chat.chat().exchanges) - 1
        for s in ex.sources:
            print(f"[{i}] source [{s.n}] {s.file} | {s.location}")
        if ex.error:
            self.fail(f"{question!r}: {ex.error}")
            return
        if not ex.sources:  # declined: said, and nothing from another report shown
            QTimer.singleShot(300, lambda: self._after_viewer(name, answer_only=True))
            return
        others = [s.file for s in ex.sources if not Path(s.file).name.startswith(prefix)]
        if others:
            self.fail(f"{question!r}: sources from other reports: {others}")
            return
        first = ex.sources[0]
        if not Path(first.file).name.startswith(prefix):
            self.fail(f"{question!r}: the first source is {first.file}, not report {prefix.strip()}")
            return
        # The first quote, as a user clicks it: the viewer highlights the quoted section
        # (a source line would highlight its whole passage).
        anchor = f"quote:{i}:0" if ex.quotes else f"passage:{i}:{first.n}"
        QTimer.singleShot(300, lambda: self._shoot(anchor, name))

    def _shoot(self, anchor: str, name: str) -> None:
        self.window.grab().save(str(self.out / f"medical-{name}-answer.png"))
        self.window.chat._on_anchor(QUrl(anchor))
        QTimer.singleShot(300, lambda: self._after_viewer(name))

    def _after_viewer(self, name: str, answer_only: bool = False) -> None:
        self.window.grab().save(str(self.out / f"medical-{name}-{'answer' if answer_only else 'viewer'}.png"))
        self.asked += 1
        if self.asked < len(QUESTIONS):
            self.window.chat.ask(QUESTIONS[self.asked][0])
        else:
            self.done = True
            QApplication.instance().exit(0)  # type: ignore[union-attr]


def _copy_reports(folder: Path) -> None:
    folder.mkdir()
    for name in REPORTS:
        shutil.copy(CORPUS / name, folder / name)


def main() -> int:
    model = sys.argv[2] if len(sys.argv) > 2 else ""
    return run_shots(Shots, _copy_reports, Path(sys.argv[1]).resolve(), model, threads=2, timeout_ms=600_000)


if __name__ == "__main__":
    sys.exit(main())
