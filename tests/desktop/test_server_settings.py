"""Settings › Model with a real server (llama-cpp-python's, on loopback), an answer written
by it in the app, and the server-down message with the quotes kept and the fallback.

With DOCQA_SHOTS=DIR set, the three states are also saved as screenshots (run under Xvfb
with QT_QPA_PLATFORM=xcb to see them as a user would)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl

from rag.ask import server_config as sc
from tests.desktop.helpers import drop_and_wait
from tests.helpers.openai_server import Server, free_port, start_server

pytestmark = [pytest.mark.gui, pytest.mark.slow]

KEY = "ward-key-" + "5" * 20
QUESTION = "How can either party terminate the agreement?"
SHOTS = os.environ.get("DOCQA_SHOTS")


def _shot(widget: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / name))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tiny_gguf, tmp_path_factory.mktemp("srv") / "server.log", api_key=KEY, ctx=4096)
    yield s
    s.stop()


def test_settings_test_lists_the_models_and_keeps_the_key(qtbot, desktop, server: Server, memory_keyring) -> None:
    from desktop.settings_dialog import SettingsDialog

    dialog = SettingsDialog(desktop.settings, desktop.engine.model_state, desktop.window,
                            runner=desktop.runner, server_dir=desktop.data_dir)
    qtbot.addWidget(dialog)
    box = dialog.server
    dialog.tabs.setCurrentWidget(box)
    box.remote.setChecked(True)
    box.url.setText("http://gpu-server.firm.local:8000")
    assert "unencrypted" in box.warning.text() and not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    box.url.setText(server.url)
    box.key.setText(KEY)
    box.test()
    qtbot.waitUntil(lambda: "reached in" in box.result.text() or "✗" in box.result.text(), timeout=30_000)
    assert "model tiny-llama" in box.result.text(), box.result.text()
    assert box.model.currentText() == "tiny-llama"
    dialog.show()
    _shot(dialog, "1-settings-server-tested.png")
    dialog.accept()
    saved = sc.load(desktop.data_dir)
    assert saved.active and saved.url == server.url and saved.model == "tiny-llama"
    assert KEY not in (desktop.data_dir / "server.json").read_text()
    assert KEY in memory_keyring.secrets.values()  # in the (test) OS keychain


def test_an_answer_from_the_server_then_the_server_down(qtbot, desktop, server: Server, sample_pdf: Path) -> None:
    engine, window = desktop.engine, desktop.window
    sc.ApiKeys(desktop.data_dir).set(server.url, KEY)
    sc.save(sc.ServerConfig(url=server.url, enabled=True), desktop.data_dir)
    qtbot.waitSignal(engine.load_model(desktop.settings).ended, timeout=60_000).wait()
    assert engine.model_state.startswith("answers: 127.0.0.1 · tiny-llama"), engine.model_state
    drop_and_wait(qtbot, window, [sample_pdf])
    job = window.chat.ask(QUESTION)
    qtbot.waitSignal(job.ended, timeout=120_000).wait()
    ex = window.chat.last_exchange()
    assert ex is not None and not ex.error and ex.quotes, ex.error
    assert window.model_label.text().startswith("answers: 127.0.0.1 · tiny-llama")
    _shot(window, "2-answer-from-server.png")

    # The server goes away (a port where nothing listens): quotes, one line, the fallback.
    sc.save(sc.ServerConfig(url=f"http://127.0.0.1:{free_port()}", enabled=True), desktop.data_dir)
    qtbot.waitSignal(engine.load_model(desktop.settings).ended, timeout=60_000).wait()
    job = window.chat.ask(QUESTION)
    qtbot.waitSignal(job.ended, timeout=60_000).wait()
    ex = window.chat.last_exchange()
    assert ex is not None and ex.quotes, "the quotes need no model"
    assert ex.error.startswith("The server could not answer: the server 127.0.0.1 is not reachable"), ex.error
    html = window.chat.transcript.toHtml()
    assert "docqa:use-local" in html and "Traceback" not in html
    _shot(window, "3-server-down-quotes-kept.png")
    with qtbot.waitSignal(engine.model_state_changed, timeout=60_000,
                          check_params_cb=lambda text: "answers:" not in text and "loading" not in text):
        window.chat._on_anchor(QUrl("docqa:use-local"))
    assert not sc.load(desktop.data_dir).active and not engine.remote
