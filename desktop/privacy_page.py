"""Settings › Privacy: what an auditor (or a nurse's manager) asks, answered on one page:
the network guard and what it blocked, where the data lives, what is encrypted, where the
key is, whether the disk is encrypted, and the audit log's state."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from rag.library import Library
from rag.privacy.report import report


class PrivacyPage(QWidget):
    def __init__(self, library_root: Path | None, library: Library | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        if library_root is None:
            layout.addWidget(QLabel("Open a library to see how it is protected."))
        else:
            r = report(library_root)
            for label, value in r.lines():
                v = QLabel(escape(value))
                v.setWordWrap(True)
                v.setTextInteractionFlags(v.textInteractionFlags() | v.textInteractionFlags().TextSelectableByMouse)
                if value.startswith(("NOT", "OFF", "off")) or "UNENCRYPTED" in value:
                    v.setText(f'<span style="color:#d9534f">{escape(value)}</span>')
                self.values[label] = v
                form.addRow(f"{label}:", v)
            layout.addLayout(form)
            for note in r.notes:
                n = QLabel(f"<small>{escape(note)}</small>")
                n.setWordWrap(True)
                layout.addWidget(n)
        self.keep_text = QCheckBox("Keep the text of questions in the audit log (encrypted); "
                                   "otherwise only a keyed hash")
        self.keep_text.setAccessibleName("Keep question text in the audit log")
        self.verify = QPushButton("Check the audit log")
        self.verify.setAccessibleName("Check that the audit log was not tampered with")
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.verify)
        row.addWidget(self.verdict, 1)
        layout.addWidget(self.keep_text)
        layout.addLayout(row)
        layout.addStretch(1)
        enabled = library is not None
        self.keep_text.setEnabled(enabled and not library.read_only)  # type: ignore[union-attr]
        if library is not None and library.read_only:
            self.keep_text.setToolTip("This library is read-only here: its settings cannot be changed.")
        self.verify.setEnabled(enabled)
        if library is not None:
            self.keep_text.setChecked(library.logs_question_text)
        self.verify.clicked.connect(self._on_verify)

    def _on_verify(self) -> None:
        if self.library is None:
            return
        v = self.library.audit.verify()
        if v.ok:
            self.verdict.setText(f"Intact: {len(v.entries)} entries, none edited, removed or reordered.")
        else:
            shown = "<br>".join(escape(p) for p in v.problems[:4])
            self.verdict.setText(f'<span style="color:#d9534f">Tampered with:</span><br>{shown}')

    def apply(self) -> None:
        """Save what was changed here (called when the dialog is accepted)."""
        if self.library is not None and not self.library.read_only:
            self.library.set_logs_question_text(self.keep_text.isChecked())
