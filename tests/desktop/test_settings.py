"""Settings: typed, round-tripped through JSON, migrated, and a model file is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.model_info import InvalidModel, read_model_info
from desktop.settings import SCHEMA_VERSION, Settings, SettingsStore
from desktop.settings_dialog import model_changed


def test_round_trip(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    s = Settings(model_path="/m/x.gguf", threads=1, gpu="cpu", context_size=8192, passages=5,
                 watched_folders=["/a", "/b"], theme="dark", first_run_done=True)
    store.save(s)
    assert json.loads(store.path.read_text())["schema_version"] == SCHEMA_VERSION
    assert store.load() == s


def test_missing_damaged_and_old_files(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    assert store.load() == Settings()
    store.path.write_text("{not json")
    assert store.load() == Settings()
    assert (tmp_path / "settings.damaged.json").exists()
    store.path.write_text(json.dumps({"schema_version": 1, "top_k": 4, "use_gpu": False, "unknown": 1}))
    s = store.load()
    assert (s.passages, s.gpu, s.schema_version) == (4, "cpu", SCHEMA_VERSION)


def test_values_are_validated() -> None:
    s = Settings(threads=-3, gpu="tpu", context_size=10, passages=999, theme="pink").validated()
    assert (s.threads, s.gpu, s.context_size, s.passages, s.theme) == (0, "auto", 512, 32, "system")


def test_model_change_detection() -> None:
    a = Settings()
    assert not model_changed(a, Settings(passages=3))
    assert model_changed(a, Settings(context_size=8192))


def test_gguf_header_is_read(tiny_gguf: Path) -> None:
    info = read_model_info(tiny_gguf)
    assert (info.architecture, info.file_type, info.context_length) == ("llama", "F32", 2048)
    assert info.size == tiny_gguf.stat().st_size
    assert "tiny-random-llama" in info.summary()


def test_bad_model_files_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(InvalidModel, match="not a GGUF"):
        read_model_info(fake)
    with pytest.raises(InvalidModel, match="does not exist"):
        read_model_info(tmp_path / "missing.gguf")
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF\x03\x00\x00\x00")
    with pytest.raises(InvalidModel):
        read_model_info(truncated)


@pytest.mark.gui
def test_settings_dialog_returns_edited_settings(qtbot, tiny_gguf: Path, tmp_path: Path) -> None:
    from desktop.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), "CPU")
    qtbot.addWidget(dialog)
    dialog.model_edit.setText(str(tiny_gguf))
    assert dialog._check_model() and "llama" in dialog.model_info.text()
    dialog.passages.setValue(3)
    dialog.gpu.setCurrentIndex(1)
    s = dialog.result_settings()
    assert (s.model_path, s.passages, s.gpu) == (str(tiny_gguf), 3, "cpu")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"nope")
    dialog.model_edit.setText(str(bad))
    assert not dialog._check_model()
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
