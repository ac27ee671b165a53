"""The list of libraries (matters) on the left: create, rename, delete."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.libraries import LibraryFolders, LibraryNameError
from desktop.widgets import button


class LibraryPanel(QWidget):
    selected = Signal(str)  # a library name, or "" when none is left
    deleting = Signal(str)  # about to delete: stop its work first

    def __init__(self, folders: LibraryFolders, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folders = folders
        self.list = QListWidget()
        self.list.setAccessibleName("Libraries")
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.new_btn = button("New…", "New library", slot=self.ask_create)
        self.rename_btn = button("Rename…", "Rename library", slot=self.ask_rename)
        self.delete_btn = button("Delete…", "Delete library", slot=self.ask_delete)
        title = QLabel("<b>Libraries</b>")
        title.setToolTip("One library per matter; questions are answered from one library at a time")
        buttons = QHBoxLayout()
        for b in (self.new_btn, self.rename_btn, self.delete_btn):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def current(self) -> str:
        item = self.list.currentItem()
        return item.text() if item else ""

    def refresh(self, select: str | None = None) -> None:
        want = select if select is not None else self.current()
        self.list.blockSignals(True)
        self.list.clear()
        for name in self.folders.names():
            QListWidgetItem(name, self.list)
        self.list.blockSignals(False)
        matches = self.list.findItems(want, Qt.MatchFlag.MatchExactly) if want else []
        row = self.list.row(matches[0]) if matches else (0 if self.list.count() else -1)
        self.list.setCurrentRow(row)
        if row == -1:
            self.selected.emit("")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        self.rename_btn.setEnabled(has)
        self.delete_btn.setEnabled(has)

    def _on_current_changed(self, current: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        self._update_buttons()
        self.selected.emit(current.text() if current else "")

    def create_library(self, name: str) -> str:
        name = self.folders.create(name)
        self.refresh(select=name)
        return name

    def ask_create(self) -> None:
        name, ok = QInputDialog.getText(self, "New library", "Name of the new library (for example, the matter):")
        if ok and name.strip():
            try:
                self.create_library(name)
            except (LibraryNameError, OSError) as err:
                QMessageBox.warning(self, "New library", str(err))

    def ask_rename(self) -> None:
        old = self.current()
        if not old:
            return
        name, ok = QInputDialog.getText(self, "Rename library", "New name:", text=old)
        if ok and name.strip() and name.strip() != old:
            try:
                self.deleting.emit(old)  # its jobs must stop before the folder moves
                new = self.folders.rename(old, name)
            except (LibraryNameError, OSError) as err:
                QMessageBox.warning(self, "Rename library", str(err))
                return
            self.refresh(select=new)

    def ask_delete(self) -> None:
        name = self.current()
        if not name:
            return
        answer = QMessageBox.question(
            self,
            "Delete library",
            f"Delete the library “{name}”, its index and its chats?\n\n"
            "Your documents themselves stay where they are on disk.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.deleting.emit(name)
            self.folders.delete(name)
            self.refresh(select="")
