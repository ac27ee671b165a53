"""Entry point and composition root: settings, embedder, job runner, engine, window.

Everything is built here and passed in; nothing is global. ``rag`` is imported first so
its offline switches are set before any heavy library is imported.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

import rag  # noqa: F401, I001  (offline switches first)
from desktop.engine import Engine
from desktop.first_run import FirstRunDialog
from desktop.jobs import JobRunner
from desktop.libraries import LibraryFolders
from desktop.main_window import MainWindow
from desktop.settings import SETTINGS_FILE, Settings, SettingsStore
from desktop.settings_dialog import SettingsDialog, model_changed
from desktop.theme import apply_theme, follow_system
from desktop.ui_state import UiState
from rag import paths
from rag.models import verify_model
from rag.protocols import Embedder


class DesktopApp:
    """The object graph of one running app (tests build their own, with a shared embedder)."""

    def __init__(
        self,
        app: QApplication,
        *,
        data_dir: Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        ui_state: UiState | None = None,
        load_model: bool = True,
    ) -> None:
        self.app = app
        self.data_dir = data_dir or paths.data_dir()
        self.store = SettingsStore(self.data_dir / SETTINGS_FILE)
        self.settings = settings if settings is not None else self.store.load()
        if embedder is None:
            from rag.embedder import SentenceTransformerEmbedder

            embedder = SentenceTransformerEmbedder()  # cheap: loads on first use, in a job
        self.runner = JobRunner()
        self.folders = LibraryFolders(self.data_dir / "libraries", embedder)
        self.engine = Engine(self.runner, self.folders, self.data_dir / "models")
        apply_theme(app, self.settings.theme)
        follow_system(app, lambda: self.settings.theme)
        self.window = MainWindow(self.engine, lambda: self.settings, ui_state)
        self.window.settings_requested.connect(self.open_settings)
        self.window.about_requested.connect(self.show_first_run)
        app.aboutToQuit.connect(self.shutdown)
        if load_model:
            self.engine.load_model(self.settings)
        # An installed app checks its bundled models against the build's hashes first (a
        # few seconds once, then cached); a damaged file gets a dialog, not a dead window.
        self.models_dialog: QMessageBox | None = None
        check = self.runner.submit("Checking the installed models", "embedder", lambda ctx: verify_model())
        check.failed.connect(self._on_models_damaged)
        self.runner.submit("Loading the embedding model", "embedder", lambda ctx: self._warm(embedder))

    @staticmethod
    def _warm(embedder: Embedder) -> None:
        warm = getattr(embedder, "warm_up", None)
        if warm is not None:
            warm()

    def _on_models_damaged(self, reason: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "docqa cannot use its models",
                          f"{reason}.\n\nYour documents and libraries are not affected.", parent=self.window)
        box.open()  # not exec(): the window stays responsive behind it
        self.models_dialog = box

    def start(self) -> None:
        self.window.show()
        if not self.settings.first_run_done:
            self.show_first_run()
            self.settings.first_run_done = True
            self.save_settings()

    def show_first_run(self) -> None:
        FirstRunDialog(self.data_dir, self.window).exec()

    def save_settings(self) -> None:
        try:
            self.store.save(self.settings)
        except OSError as err:
            self.window.statusBar().showMessage(f"Could not save settings: {err}", 8000)

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self.engine.model_state, self.window)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def apply_settings(self, new: Settings) -> None:
        old, self.settings = self.settings, new
        self.save_settings()
        apply_theme(self.app, new.theme)
        if model_changed(old, new):
            self.engine.load_model(new)
        self.window.watcher.watch(new.watched_folders if self.window.library else [])

    def shutdown(self) -> None:
        self.save_settings()
        self.engine.shutdown()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="docqa-desktop", description="Private document Q&A on this computer.")
    p.add_argument("--smoke", nargs=2, metavar=("FILE", "QUESTION"),
                   help="offscreen self-test: ingest FILE, ask QUESTION, open the first citation")
    p.add_argument("--screenshot", type=Path, help="with --smoke: where to save a PNG of the window")
    p.add_argument("--model", type=Path, help="a GGUF model to use instead of the configured one")
    p.add_argument("--timeout", type=float, default=300.0, help="with --smoke: give up after this many seconds")
    p.add_argument("--threads", type=int, help="CPU threads for the model (default: the settings)")
    p.add_argument("--dark", action="store_true", help="force the dark colour scheme")
    return p.parse_args(argv)


def make_qapplication(argv: Sequence[str]) -> QApplication:
    QCoreApplication.setOrganizationName("docqa")
    QCoreApplication.setApplicationName("docqa-desktop")
    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    existing = QApplication.instance()
    return existing if isinstance(existing, QApplication) else QApplication(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.smoke:
        from desktop.smoke import run_smoke

        return run_smoke(args)
    app = make_qapplication(sys.argv[:1])
    desktop = DesktopApp(app, ui_state=UiState())
    if args.model:
        desktop.apply_settings(Settings(**{**vars(desktop.settings), "model_path": str(args.model)}))
    if args.dark or os.environ.get("DOCQA_THEME") == "dark":
        apply_theme(app, "dark")
    desktop.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
