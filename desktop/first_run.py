"""The first-run screen: where the data lives, and that nothing leaves the computer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget


def first_run_text(data_dir: Path) -> str:
    return (
        "<h2>Welcome to docqa</h2>"
        "<p>Ask questions about your own documents and get answers that cite the file, "
        "page and passage they come from.</p>"
        "<p><b>Everything stays on this computer.</b> Your documents are read here, the "
        "language model runs here, and nothing is sent over the internet: docqa makes no "
        "network connections at all.</p>"
        f"<p>Your libraries, their search index and your chats are kept in:<br><code>{data_dir}</code><br>"
        "Your documents themselves are never moved, changed or copied; removing one from a "
        "library only removes it from docqa.</p>"
        "<p><b>To start:</b> create a library for a matter on the left, then drop PDF, Word, "
        "PowerPoint, Markdown or text files (or whole folders) onto the window and ask a "
        "question at the bottom.</p>"
        "<p><small>Answers come from a small local model: always check them against the cited "
        "passage (click a citation such as [1] to see it in its document).</small></p>"
    )


class FirstRunDialog(QDialog):
    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to docqa")
        self.setMinimumWidth(560)
        text = QLabel(first_run_text(data_dir))
        text.setWordWrap(True)
        text.setAccessibleName("About docqa and where your data is kept")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Get started")
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
