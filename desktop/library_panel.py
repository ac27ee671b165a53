"""The list of libraries (matters) on the left: create, rename, delete; below them, when
the app is connected to a team server, the team matters the user may open (named
``team:MATTER`` inside the app, shown by their own name under the server's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
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
from rag.team.matter import is_team, team_name

if TYPE_CHECKING:
    from desktop.team_session import TeamSession

NAME = Qt.ItemDataRole.UserRole  # the library's name in the app ("team:MATTER" for a team matter)


class LibraryPanel(QWidget):
    selected = Signal(str)  # a library name, or "" when none is left
    deleting = Signal(str)  # about to delete: stop its work first

    def __init__(self, folders: LibraryFolders, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folders = folders
        self.team: TeamSession | None = None
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

    def set_team(self, team: TeamSession) -> None:
        self.team = team
        team.changed.connect(lambda: self.refresh())

    def current(self) -> str:
        item = self.list.currentItem()
        return str(item.data(NAME) or "") if item else ""

    def refresh(self, select: str | None = None) -> None:
        want = select if select is not None else self.current()
        self.list.blockSignals(True)
        self.list.clear()
        for name in self.folders.names():
            QListWidgetItem(name, self.list).setData(NAME, name)
        self._add_team()
        self.list.blockSignals(False)
        rows = [i for i in range(self.list.count()) if self.list.item(i).data(NAME)]
        row = next((i for i in rows if want and self.list.item(i).data(NAME) == want), rows[0] if rows else -1)
        self.list.setCurrentRow(row)
        if row == -1:
            self.selected.emit("")
        self._update_buttons()

    def _add_team(self) -> None:
        """The team server's heading, then its matters (or why there are none)."""
        team = self.team
        if team is None or not team.config.url:
            return
        head = QListWidgetItem(f"Team · {team.host}", self.list)
        head.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading: shown plainly, never selected
        font = QFont(head.font())
        font.setBold(True)
        head.setFont(font)
        head.setToolTip(team.status())
        if not team.signed_in:
            note = QListWidgetItem("  " + (team.error or "signed out") + " · Settings › Team", self.list)
            note.setFlags(Qt.ItemFlag.NoItemFlags)
            note.setToolTip(team.status())
            return
        if not team.matters:
            QListWidgetItem("  no matters yet", self.list).setFlags(Qt.ItemFlag.NoItemFlags)
        for matter in team.matters:
            item = QListWidgetItem(f"  {matter}", self.list)
            item.setData(NAME, team_name(matter))
            item.setToolTip(f"{matter}: a shared matter on {team.host} (nothing of it is kept on this computer)")

    def _update_buttons(self) -> None:
        name = self.current()
        # A team matter is renamed and deleted on the server, by its administrator.
        self.rename_btn.setEnabled(bool(name) and not is_team(name))
        self.delete_btn.setEnabled(bool(name) and not is_team(name))

    def _on_current_changed(self, current: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        self._update_buttons()
        self.selected.emit(str(current.data(NAME) or "") if current else "")

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
