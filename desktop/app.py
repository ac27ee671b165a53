"""Entry point and composition root: settings, embedder, job runner, engine, window.

Everything is built here and passed in; nothing is global. ``rag`` is imported first so
its offline switches are set before any heavy library is imported.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import rag  # noqa: F401, I001  (offline switches first)
from desktop.engine import Engine
from desktop.first_run import FirstRunDialog
from desktop.jobs import JobRunner, one_line
from desktop.libraries import LibraryFolders
from desktop.main_window import MainWindow
from desktop.passphrase import passphrase_prompt
from desktop.settings import SETTINGS_FILE, Settings, SettingsStore
from desktop.settings_dialog import SettingsDialog, model_changed
from desktop.team_session import TeamSession
from desktop.theme import apply_theme, follow_system
from desktop.ui_state import UiState
from rag import paths
from rag.models.defaults import verify_model
from rag.protocols import Embedder
from rag.store.keys import KeySource
from rag.team.matter import is_team

LOG_FILE = "docqa.log"


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
            from rag.models.embedder import SentenceTransformerEmbedder

            embedder = SentenceTransformerEmbedder()  # cheap: loads on first use, in a job
        # Tracebacks go here, for a bug report; the user is shown one line.
        self.runner = JobRunner(log_path=self.data_dir / LOG_FILE)
        keys = KeySource(passphrase_prompt(lambda: getattr(self, "window", None)))
        self.folders = LibraryFolders(self.data_dir / "libraries", embedder, keys)
        self.engine = Engine(self.runner, self.folders, self.data_dir / "models")
        self.engine.server_dir = self.data_dir  # server.json, shared with docqa server set
        apply_theme(app, self.settings.theme)
        follow_system(app, lambda: self.settings.theme)
        self.window = MainWindow(self.engine, lambda: self.settings, ui_state, open_last=False)
        # The team server's matters, listed beside the libraries once signed in (team.json
        # and a token in the keychain: the same as `docqa connect` and `docqa login`).
        self.team = TeamSession(self.runner, self.data_dir)
        self.folders.team = self.team
        self.window.set_team(self.team)
        self.team.resume()
        # The window shows before the last library's index loads (seconds with chromadb).
        self.window.open_last_library()
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
        warm = self.runner.submit("Loading the embedding model", "embedder", lambda ctx: self._warm(embedder))
        warm.finished.connect(lambda _r: self.window.set_embedder_state(self._hardware(embedder)))

    @staticmethod
    def _hardware(embedder: Embedder) -> str:
        hw = getattr(embedder, "hardware", None)
        return f"Embeddings on {hw}" if hw is not None else ""

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
        # Only the real app: under pytest-qt its own hook must see errors in slots.
        install_excepthook(self.data_dir / LOG_FILE, self.window.statusBar().showMessage)
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
        name = self.window.library
        lib = self.folders.local(name) if name and not is_team(name) else None  # a team matter's privacy is the server's
        dialog = SettingsDialog(self.settings, self.engine.model_state, self.window,
                                library_root=self.folders.path(name) if lib else None,
                                library=lib, runner=self.runner, server_dir=self.data_dir, team=self.team)
        server_changed = dialog.server.changed
        if dialog.exec():
            self.apply_settings(dialog.result_settings(), reload=server_changed)

    def apply_settings(self, new: Settings, *, reload: bool = False) -> None:
        old, self.settings = self.settings, new
        self.save_settings()
        apply_theme(self.app, new.theme)
        if reload or model_changed(old, new):
            self.engine.load_model(new)
        self.window.watcher.watch(new.watched_folders if self.window.library else [])

    def shutdown(self) -> None:
        self.save_settings()
        self.engine.shutdown()
        self.team.close()


def install_excepthook(log: Path, show: Callable[[str, int], None]) -> None:
    """An exception in a Qt slot would print a traceback (and a frozen app could follow):
    log it, and say one line in the status bar instead."""
    def hook(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
        try:
            with log.open("a", encoding="utf-8") as f:
                f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + "".join(traceback.format_exception(kind, err, tb)))
        except OSError:
            pass
        show(f"Something went wrong: {one_line(err)} (details in {log.name})", 15_000)

    sys.excepthook = hook


STARTUP_TRACE = "DOCQA_STARTUP_TRACE"


class FirstExpose(QObject):
    """With DOCQA_STARTUP_TRACE set, print the wall-clock time at which the main window is
    first painted (on screen), then quit if its value is "quit": what
    tests/bench/startup_bench.py times."""

    def __init__(self, app: QApplication, quit_after: bool) -> None:
        super().__init__()
        self.app = app
        self.quit_after = quit_after
        self.done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if not self.done and event.type() in (QEvent.Type.Expose, QEvent.Type.Paint):
            self.done = True
            import time

            print(f"docqa-window-exposed {time.time():.3f}", flush=True)
            if self.quit_after:
                QTimer.singleShot(0, self.app.quit)
        return False


def make_qapplication(argv: Sequence[str]) -> QApplication:
    QCoreApplication.setOrganizationName("docqa")
    QCoreApplication.setApplicationName("docqa-desktop")
    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    existing = QApplication.instance()
    return existing if isinstance(existing, QApplication) else QApplication(list(argv))
