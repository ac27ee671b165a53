"""Qt runs offscreen, with test-mode standard paths and a private data directory."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QStandardPaths  # noqa: E402

import rag  # noqa: E402, F401  (offline switches before Qt and the models)

QStandardPaths.setTestModeEnabled(True)


@pytest.fixture
def desktop(qapp, qtbot, tmp_path: Path, embedder, tiny_gguf: Path):
    """The whole app, built by its composition root, with the tiny model and a shared embedder."""
    from desktop.app import DesktopApp
    from desktop.settings import Settings

    # One llama thread: on a busy two-core machine, more threads spin against each other.
    settings = Settings(model_path=str(tiny_gguf), first_run_done=True, context_size=1024, threads=1)
    d = DesktopApp(qapp, data_dir=tmp_path / "home", settings=settings, embedder=embedder)
    qtbot.addWidget(d.window)
    d.window.show()
    yield d
    qapp.aboutToQuit.disconnect(d.shutdown)
    d.shutdown()


@pytest.fixture
def window(desktop):
    return desktop.window
