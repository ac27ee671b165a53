"""An installed app whose bundled model is damaged says so in a dialog, and the window
stays usable (a fake frozen layout: the real manifest code, a real GGUF with one byte
flipped)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from rag.models.bundle import write_manifest


@pytest.mark.gui
def test_damaged_bundled_model_gets_a_dialog(qapp, qtbot, tmp_path: Path, embedder, tiny_gguf: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.app import DesktopApp
    from desktop.settings import Settings

    models = tmp_path / "_internal" / "models"
    (models / "emb").mkdir(parents=True)
    (models / "emb" / "config.json").write_text("{}")
    shutil.copy2(tiny_gguf, models / "tiny.gguf")
    write_manifest(models, "emb", "tiny.gguf")
    data = bytearray((models / "tiny.gguf").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (models / "tiny.gguf").write_bytes(bytes(data))
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # as PyInstaller's bootloader sets them
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    monkeypatch.setenv("DOCQA_HOME", str(tmp_path / "home"))

    d = DesktopApp(qapp, data_dir=tmp_path / "home", settings=Settings(first_run_done=True, threads=1),
                   embedder=embedder)
    qtbot.addWidget(d.window)
    d.window.show()
    try:
        qtbot.waitUntil(lambda: d.models_dialog is not None and d.models_dialog.isVisible(), timeout=60_000)
        assert d.models_dialog is not None
        text = d.models_dialog.text()
        assert "The installed language model is damaged: tiny.gguf" in text and "reinstall docqa" in text
        assert "Traceback" not in text
        qtbot.waitUntil(lambda: d.engine.model_state.startswith("model not loaded: The installed language model"),
                        timeout=60_000)
        shot = os.environ.get("DOCQA_SHOT_DIR")
        if shot:
            d.window.screen().grabWindow(0).save(str(Path(shot) / "damaged-model-dialog.png"))
    finally:
        qapp.aboutToQuit.disconnect(d.shutdown)
        d.shutdown()
