"""Keyboard and settings actions on the real window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.desktop.helpers import drop_and_wait

pytestmark = pytest.mark.gui


def test_ctrl_enter_asks(qtbot, window) -> None:
    window.libraries.create_library("Keys")
    window.chat.question.setPlainText("What is the notice period?")
    window.chat.question.setFocus()
    with qtbot.waitSignal(window.chat.answered, timeout=60_000) as answered:
        qtbot.keyClick(window.chat.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert window.chat.busy, "Ctrl+Enter did not ask"
    ex = answered.args[0]
    assert ex.question == "What is the notice period?"
    assert "no documents" in ex.answer  # the engine's answer for an empty library
    assert window.chat.question.toPlainText() == ""


def test_remove_documents_keeps_files(qtbot, window, sample_pdf: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    drop_and_wait(qtbot, window, [sample_pdf])
    window.documents.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.engine.library_changed, timeout=10_000):
        window.documents.remove_btn.click()
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 0, timeout=5_000)
    assert sample_pdf.exists()


def test_changing_the_model_settings_reloads_it(qtbot, desktop) -> None:
    engine = desktop.engine
    qtbot.waitUntil(lambda: engine.generator is not None, timeout=30_000)
    first = engine.generator
    new = type(desktop.settings)(**{**vars(desktop.settings), "context_size": 768})
    with qtbot.waitSignal(engine.model_state_changed, timeout=30_000,
                          check_params_cb=lambda text: "context 768" in text):
        desktop.apply_settings(new)
    assert engine.generator is not first and engine.generator.context_size == 768
    assert desktop.store.load().context_size == 768
    assert "CPU" in desktop.window.model_label.text()


def test_filter_box_filters_the_table(qtbot, window, tmp_path: Path, sample_pdf: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    drop_and_wait(qtbot, window, [sample_pdf, empty])
    window.focus_filter()
    qtbot.keyClicks(window.documents.filter, "failed")
    assert window.documents.proxy.rowCount() == 1
    assert window.documents.proxy.index(0, 0).data() == "empty.pdf"


def test_new_chat_and_history(qtbot, window) -> None:
    window.libraries.create_library("History")
    with qtbot.waitSignal(window.chat.answered, timeout=60_000):
        window.chat.ask("First question?")
    window.chat.new_chat()
    assert window.chat.chat().exchanges == []
    assert window.chat.history.count() == 2
    window.chat.history.activated.emit(1)  # the earlier chat
    assert window.chat.chat().exchanges[0].question == "First question?"
    assert "First question?" in window.chat.transcript.toPlainText()


def test_watched_folder_reports_new_files(qtbot, tmp_path: Path) -> None:
    from desktop.watch import FolderWatcher

    watcher = FolderWatcher(delay_ms=50)
    watcher.watch([str(tmp_path), str(tmp_path / "missing")])
    assert watcher.folders() == [str(tmp_path)]
    with qtbot.waitSignal(watcher.changed, timeout=5_000) as changed:
        (tmp_path / "new.txt").write_text("hello")
    assert changed.args == [str(tmp_path)]
