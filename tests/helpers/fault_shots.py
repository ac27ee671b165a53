"""Screenshots of issue 18 on the desktop, from the real app (run as root for the
read-only library: it is a read-only bind mount):

    PYTHONPATH=. DOCQA_PASSPHRASE=... xvfb-run -a -s "-screen 0 1400x900x24" \\
        env QT_QPA_PLATFORM=xcb .venv/bin/python -m tests.helpers.fault_shots OUTDIR MODEL.gguf

Saves: damaged.png (a damaged catalogue), index-rebuilt.png (the repair note), normal.png
(an answer, and the status bar's model line), read-only.png, quotes-only.png (a model file
that does not load). Prints the model line's tooltip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt

from desktop.app import DesktopApp, make_qapplication
from desktop.settings import Settings
from rag.library import Library
from rag.models.embedder import SentenceTransformerEmbedder

LEASE = ("The tenant pays a monthly rent of 1,200 euros on the first day of each month.\n\n"
         "The lease ends on 31 December 2026 unless renewed in writing by both parties.\n\n"
         "Either party may end the lease with three months' notice in writing.\n")
QUESTION = "What is the monthly rent?"


def wait(app: object, cond: Callable[[], bool], timeout: float = 300.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting")
        app.processEvents()  # type: ignore[attr-defined]  (a script, not the app)
        time.sleep(0.02)


def main(out: Path, model: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="docqa-shots-"))
    embedder = SentenceTransformerEmbedder()
    doc = home / "Lease 2024.txt"
    doc.write_text(LEASE, encoding="utf-8")
    libs = home / "libraries"
    for name in ("Lease matter", "Old matter", "Shared matter"):
        with Library(libs / name, embedder) as lib:
            lib.ingest([doc])
    with open(libs / "Old matter" / "manifest.sqlite3", "r+b") as fh:
        fh.write(os.urandom(4096))
    shutil.rmtree(libs / "Lease matter" / "index")
    shared = str(libs / "Shared matter")
    subprocess.run(["mount", "--bind", shared, shared], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", shared, shared], check=True)
    try:
        app = make_qapplication(sys.argv[:1])
        settings = Settings(model_path=str(model), first_run_done=True, last_library="Old matter")
        d = DesktopApp(app, data_dir=home, settings=settings, embedder=embedder)
        w = d.window
        w.resize(1400, 880)
        w.show()

        def shot(name: str) -> None:
            end = time.monotonic() + 0.5  # let layouts settle before the grab
            while time.monotonic() < end:
                app.processEvents()
                time.sleep(0.02)
            w.grab().save(str(out / name))
            print("saved", out / name)

        def select(name: str) -> None:
            w.libraries.list.setCurrentItem(w.libraries.list.findItems(name, Qt.MatchFlag.MatchExactly)[0])

        def ask() -> None:
            w.chat.ask(QUESTION)
            wait(app, lambda: not w.chat.busy)

        wait(app, lambda: not d.runner.active("ingest:"))
        shot("damaged.png")
        select("Lease matter")
        shot("index-rebuilt.png")
        wait(app, lambda: "loading" not in w.model_label.text())
        ask()
        shot("normal.png")
        print("model line:", w.model_label.text())
        print("tooltip:", w.model_label.toolTip())
        select("Shared matter")
        ask()
        shot("read-only.png")
        bad = home / "damaged.gguf"
        bad.write_bytes(b"GGUF" + os.urandom(64_000))
        select("Lease matter")
        d.apply_settings(Settings(**{**vars(d.settings), "model_path": str(bad)}))
        wait(app, lambda: "loading" not in w.model_label.text())
        ask()
        shot("quotes-only.png")
        d.shutdown()
    finally:
        subprocess.run(["umount", shared], check=False)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
