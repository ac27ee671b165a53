"""The review grid's small dialogs: a column (its name and question) and a reviewer's own
answer for a cell (with a note)."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from rag.ask.review.columns import Column


class ColumnDialog(QDialog):
    """Add or edit a column; OK stays disabled until the name is free and a question given."""

    def __init__(self, taken: Collection[str], column: Column | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit column" if column else "Add column")
        self._taken = {t.lower() for t in taken}
        self.name = QLineEdit(column.name if column else "")
        self.name.setPlaceholderText("Governing law")
        self.name.setAccessibleName("Column name")
        self.question = QPlainTextEdit(column.question if column else "")
        self.question.setPlaceholderText("Which law governs this agreement?")
        self.question.setAccessibleName("Question asked of each document")
        self.question.setTabChangesFocus(True)
        self.question.setFixedHeight(72)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        hint = QLabel("Ask it as you would of one document; each document is answered on its own, "
                      "from its own words. Editing the question recomputes this column only.")
        hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Question", self.question)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._check)
        self.question.textChanged.connect(self._check)
        self.resize(520, 0)
        self._check()

    def column(self) -> Column:
        name = " ".join(self.name.text().split())
        question = " ".join(self.question.toPlainText().split())
        return Column(name or question[:40], question)

    def _check(self) -> None:
        col = self.column()
        problem = ""
        if not col.question:
            problem = "Type the question to ask of each document."
        elif col.name.lower() in self._taken:
            problem = f"There is already a column named “{col.name}”."
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


class OverwriteDialog(QDialog):
    """The reviewer's own answer for a cell, and a note (kept with the grid, exported)."""

    def __init__(self, where: str, text: str, note: str = "", *, flag_only: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Flag with a note" if flag_only else "Overwrite the answer")
        self.text = QLineEdit(text)
        self.text.setAccessibleName("Your answer")
        self.note = QPlainTextEdit(note)
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("Why (optional): exported with the grid")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(64)
        label = QLabel(where)
        label.setWordWrap(True)
        form = QFormLayout()
        if not flag_only:
            form.addRow("Answer", self.text)
        form.addRow("Note", self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(480, 0)

    def values(self) -> tuple[str, str]:
        return self.text.text().strip(), self.note.toPlainText().strip()
