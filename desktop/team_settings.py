"""Settings › Team: the organisation's docqa-server, signing in and out, and the matters
this account may open.

Signing in happens at once (not on OK), in the background: the server may be slow or
away. The address goes to ``team.json`` (as ``docqa connect``), the token to the OS
keychain (as ``docqa login``); the password is never kept.
"""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.team_session import TeamSession
from rag.ask.server_config import BadServer, check_url

WARN = "#d9534f"
OK = "#2e7d32"


class TeamBox(QWidget):
    def __init__(self, session: TeamSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        config = session.config
        self.url = QLineEdit(config.url)
        self.url.setPlaceholderText("https://docqa.firm.local")
        self.url.setAccessibleName("Team server address")
        self.ca = QLineEdit(config.ca_file)
        self.ca.setPlaceholderText("only if IT gave you one (else the system's certificates)")
        self.ca.setAccessibleName("Certificate authority file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca, 1)
        ca_row.addWidget(browse)
        self.unencrypted = QCheckBox("Allow unencrypted http:// to this server")
        self.unencrypted.setChecked(config.unencrypted)
        self.name = QLineEdit(config.user)
        self.name.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password.returnPressed.connect(self.sign_in)
        self.sign_in_btn = QPushButton("Sign in")
        self.sign_in_btn.setAccessibleName("Sign in to the team server")
        self.sign_in_btn.clicked.connect(self.sign_in)
        self.sign_out_btn = QPushButton("Sign out")
        self.sign_out_btn.setAccessibleName("Sign out of the team server")
        self.sign_out_btn.clicked.connect(self.sign_out)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_in_btn)
        buttons.addWidget(self.sign_out_btn)
        buttons.addStretch(1)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.matters = QListWidget()
        self.matters.setAccessibleName("Your team matters")
        self.matters.setMaximumHeight(120)

        form = QFormLayout()
        form.addRow("Server address:", self.url)
        form.addRow("CA certificate:", ca_row)
        form.addRow("", self.unencrypted)
        form.addRow("Name:", self.name)
        form.addRow("Password:", self.password)
        form.addRow("", buttons)
        form.addRow("", self.result)
        form.addRow("Your matters:", self.matters)
        what = QLabel("<small>Shared matters stay on your organisation's server: a question goes to it, and "
                      "the quotes and pages it answers with come back. Answers are written on this computer "
                      "(or by your answer server). Nothing of a team matter is stored here, and every search "
                      "and page you open is recorded in the server's audit trail. The sign-in is kept in the "
                      "OS keychain, never the password.</small>")
        what.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Team server</b>"))
        layout.addLayout(form)
        layout.addWidget(what)
        layout.addStretch(1)
        self.url.textChanged.connect(self._update)
        self.unencrypted.toggled.connect(self._update)
        session.changed.connect(self._show_session)
        self._show_session()

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The organisation's CA certificate", "",
                                              "Certificates (*.pem *.crt *.cer);;All files (*)")
        if path:
            self.ca.setText(path)

    def problem(self) -> str:
        url = self.url.text().strip()
        if not url:
            return "the server's address, e.g. https://docqa.firm.local"
        try:
            check_url(url, unencrypted=self.unencrypted.isChecked())
        except BadServer as err:
            return str(err)
        return ""

    def _update(self) -> None:
        problem = self.problem() if self.url.text().strip() else ""
        self.result.setText(f'<span style="color:{WARN}">{escape(problem)}</span>' if problem else "")

    def _show_session(self) -> None:
        s = self.session
        self.sign_out_btn.setEnabled(s.signed_in)
        self.matters.clear()
        self.matters.addItems(s.matters)
        colour = OK if s.signed_in else WARN if s.error and s.error != "signed out" else ""
        line = escape(s.status())
        self.result.setText(f'<span style="color:{colour}">{line}</span>' if colour else line)

    def sign_in(self) -> None:
        problem = self.problem()
        name = self.name.text().strip()
        if problem or not name or not self.password.text():
            why = problem or ("your user name" if not name else "your password")
            self.result.setText(f'<span style="color:{WARN}">Needed: {escape(why)}</span>')
            return
        self.result.setText("Signing in…")
        self.sign_in_btn.setEnabled(False)
        job = self.session.sign_in(self.url.text().strip(), name, self.password.text(),
                                   unencrypted=self.unencrypted.isChecked(), ca_file=self.ca.text().strip())
        self.password.clear()  # not kept, not even in the field
        job.finished.connect(lambda _r: self.sign_in_btn.setEnabled(True))
        job.failed.connect(self._on_failed)

    def _on_failed(self, reason: str) -> None:
        self.sign_in_btn.setEnabled(True)
        self.result.setText(f'<span style="color:{WARN}">✗ {escape(reason)}</span>')

    def sign_out(self) -> None:
        self.session.sign_out()
