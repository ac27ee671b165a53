"""Settings › Model: answers written on this computer, or by a server in the organisation
(its address, its model from ``/v1/models``, its API key, and a Test that reaches it).

The choice is kept by the engine in ``server.json`` (shared with ``docqa server set``), the
key in the OS keychain (:class:`rag.ask.server_config.ApiKeys`), never in settings files.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.jobs import JobRunner
from rag.ask import server_config as sc
from rag.ask.remote_http import Probe, RemoteError, probe
from rag.store.keys import KeyUnavailable

WARN = "#d9534f"


class ServerBox(QWidget):
    def __init__(self, runner: JobRunner | None = None, folder: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.folder = folder
        self.keys = sc.ApiKeys(folder)
        self.saved = sc.load(folder)
        self.local = QRadioButton("This computer")
        self.remote = QRadioButton("A server in your organisation")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.remote)
        (self.remote if self.saved.active else self.local).setChecked(True)
        self.url = QLineEdit(self.saved.url)
        self.url.setPlaceholderText("https://gpu-server.firm.local:8443")
        self.url.setAccessibleName("Server address")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setAccessibleName("Server model")
        if self.saved.model:
            self.model.addItem(self.saved.model)
        edit = self.model.lineEdit()
        if edit is not None:
            edit.setPlaceholderText("the server's first model (Test lists them)")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("API key")
        self.key.setPlaceholderText(self._key_hint())
        self.unencrypted = QCheckBox("Allow unencrypted http:// to this server")
        self.unencrypted.setChecked(self.saved.unencrypted)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.test_button = QPushButton("Test")
        self.test_button.setAccessibleName("Test the server")
        self.test_button.clicked.connect(self.test)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(self.result.textInteractionFlags()
                                            | self.result.textInteractionFlags().TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result, 1)

        form = QFormLayout()
        form.addRow("Server address:", self.url)
        form.addRow("Model:", self.model)
        form.addRow("API key:", self.key)
        form.addRow("", self.unencrypted)
        form.addRow("", self.warning)
        form.addRow("", test_row)
        self.fields = QWidget()
        self.fields.setLayout(form)
        what = QLabel("<small>Only the question and the quotes and passages picked for it are sent, "
                      "never whole documents, file paths or the library's key. Every other host stays "
                      "refused, and each answer from the server is recorded in the library's audit log."
                      "</small>")
        what.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Answers are written by</b>"))
        layout.addWidget(self.local)
        layout.addWidget(self.remote)
        layout.addWidget(self.fields)
        layout.addWidget(what)
        layout.addStretch(1)
        for signal in (self.local.toggled, self.unencrypted.toggled):
            signal.connect(self._update)
        self.url.textChanged.connect(self._update)
        self._update()

    def _key_hint(self) -> str:
        try:
            kept = bool(self.saved.url) and self.keys.get(self.saved.url) is not None
        except KeyUnavailable:
            kept = True
        return "a key is kept in the OS keychain (type to replace it)" if kept else "none (if the server needs one)"

    def config(self) -> sc.ServerConfig:
        return replace(self.saved, url=self.url.text().strip(), model=self.model.currentText().strip(),
                       enabled=self.remote.isChecked(), unencrypted=self.unencrypted.isChecked())

    def problem(self) -> str:
        """Why the address cannot be used ("" when it can, or when answers stay here)."""
        config = self.config()
        if not config.enabled:
            return ""
        try:
            config.checked()
        except sc.BadServer as err:
            return str(err)
        return ""

    def _update(self) -> None:
        self.fields.setEnabled(self.remote.isChecked())
        config = self.config()
        plain = config.url.startswith("http://") and not sc.is_loopback(config.host)
        if self.problem():
            self.warning.setText(f'<span style="color:{WARN}">{escape(self.problem())}</span>')
        elif plain and config.enabled:
            self.warning.setText(f'<span style="color:{WARN}"><b>Unencrypted:</b> questions and quotes cross '
                                 "the network readable by anyone on the way.</span>")
        else:
            self.warning.setText("")

    @property
    def changed(self) -> bool:
        return self.config() != self.saved or bool(self.key.text())

    def test(self) -> None:
        """Reach the server with what is typed now (in the background: it may take seconds)."""
        if self.problem():
            self.result.setText(f'<span style="color:{WARN}">{escape(self.problem())}</span>')
            return
        config = replace(self.config(), enabled=True)
        typed = self.key.text().strip()
        try:
            key = typed or (self.keys.get(config.url) if config.url else None)
        except KeyUnavailable as err:
            self.result.setText(f'<span style="color:{WARN}">{escape(str(err))}</span>')
            return
        self.result.setText("Testing…")
        self.test_button.setEnabled(False)
        if self.runner is None:
            try:
                self._on_tested(probe(config, key))
            except (RemoteError, sc.BadServer) as err:
                self._on_failed(str(err))
            return
        job = self.runner.submit("Testing the server", "server-test", lambda ctx: probe(config, key))
        job.finished.connect(self._on_tested)
        job.failed.connect(self._on_failed)

    def _on_tested(self, result: Probe) -> None:
        self.test_button.setEnabled(True)
        current = self.model.currentText().strip()
        self.model.clear()
        self.model.addItems(result.models)
        self.model.setCurrentText(current if current in result.models else result.model)
        self.result.setText(f'<span style="color:#2e7d32">✓ {escape(result.summary())}</span>')

    def _on_failed(self, reason: str) -> None:
        self.test_button.setEnabled(True)
        self.result.setText(f'<span style="color:{WARN}">✗ {escape(reason)}</span>')

    def apply(self) -> None:
        """Keep the choice (and a newly typed key, in the keychain)."""
        config = self.config()
        if config.enabled:
            config = config.checked()
        sc.save(config, self.folder)
        if self.key.text().strip() and config.url:
            self.keys.set(config.url, self.key.text().strip())
            self.key.clear()
        self.saved = config
