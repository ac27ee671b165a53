"""The passphrase dialog: asked only where the computer has no secure keychain for a
library's key (see :mod:`rag.store.keys`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from rag.store.keys import Prompt


def passphrase_prompt(parent: Callable[[], QWidget | None]) -> Prompt:
    """A :data:`rag.store.keys.Prompt` that asks in a dialog (twice when choosing a new one)."""

    def ask(new: bool) -> str | None:
        title = "Choose a passphrase" if new else "Library passphrase"
        label = ("This computer has no secure keychain, so this library is locked with a passphrase.\n"
                 "Choose one; without it nobody (not even you) can open the library:"
                 if new else "Type the passphrase of this library:")
        pw, ok = QInputDialog.getText(parent(), title, label, QLineEdit.EchoMode.Password)
        if not ok or not pw:
            return None
        if new:
            again, ok = QInputDialog.getText(parent(), title, "Type it again:", QLineEdit.EchoMode.Password)
            if not ok or again != pw:
                QMessageBox.warning(parent(), title, "The two passphrases differ; nothing was created.")
                return None
        return str(pw)

    return ask
