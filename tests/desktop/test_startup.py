"""Start-up: the window comes first; the last library and the models load behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


def test_last_library_opens_after_the_window(qapp, qtbot, tmp_path: Path, embedder, tiny_gguf: Path) -> None:
    from desktop.app import DesktopApp
    from desktop.settings import Settings

    home = tmp_path / "home"
    (home / "libraries" / "Matter").mkdir(parents=True)
    settings = Settings(model_path=str(tiny_gguf), first_run_done=True, context_size=1024, threads=1,
                        last_library="Matter")
    d = DesktopApp(qapp, data_dir=home, settings=settings, embedder=embedder, load_model=False)
    qtbot.addWidget(d.window)
    try:
        # Opening a library loads its vector index: never on the UI thread before the window.
        assert d.window.library == ""
        d.window.show()
        qtbot.waitUntil(lambda: d.window.library == "Matter", timeout=120_000)
        assert d.window.libraries.current() == "Matter"
        qtbot.waitUntil(lambda: d.window.embedder_label.text().startswith("Embeddings on "), timeout=120_000)
    finally:
        qapp.aboutToQuit.disconnect(d.shutdown)
        d.shutdown()
