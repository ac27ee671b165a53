"""The main window's menus and shortcuts, in one table-like function."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

Keys = QKeySequence | QKeySequence.StandardKey | str


def build_menus(w: MainWindow) -> list[QAction]:
    """Add the menus to ``w``; returns the actions that change the library (disabled while
    it is read-only here)."""
    menus: dict[str, QMenu] = {}

    def action(menu_name: str, text: str, slot: Callable[[], object], keys: Keys = "") -> QAction:
        menu = menus.get(menu_name) or w.menuBar().addMenu(menu_name)
        menus[menu_name] = menu
        act = QAction(text, w)
        if keys:
            act.setShortcut(QKeySequence(keys))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    writes = [action("&File", "Add files…", w.choose_files, QKeySequence.StandardKey.Open),
              action("&File", "Add a folder…", w.choose_folder)]
    action("&File", "Export chat…", lambda: w.export_chat("chat"))
    action("&File", "Settings…", w.settings_requested.emit, "Ctrl+,")
    action("&File", "Quit", w.close, QKeySequence.StandardKey.Quit)
    action("&Chat", "New chat", w.chat.new_chat, "Ctrl+N")
    action("&Chat", "Ask", w.chat.ask, "Ctrl+Return")
    action("&Chat", "Stop", w.stop, "Esc")
    action("&Chat", "Copy answer", w.chat.copy_last_answer, "Ctrl+Shift+C")
    action("&Documents", "Filter", w.focus_filter, QKeySequence.StandardKey.Find)
    writes.append(action("&Documents", "Sync with folders", w.sync_library, "F5"))
    action("&Documents", "Ask about the selected documents", w.ask_about, "Ctrl+Shift+A")
    action("&Review", "Show the review grid", lambda: w.tabs.setCurrentWidget(w.review), "Ctrl+Shift+R")
    action("&Review", "Show the chat", lambda: w.tabs.setCurrentWidget(w.chat), "Ctrl+Shift+H")
    action("&Review", "Run the review", lambda: w.review.run())
    action("&Review", "Add column…", w.review.commands.add_column)
    writes.append(action("&Review", "Delete this grid…", w.review.commands.delete_grid))
    action("&Review", "Export the grid as Excel…", lambda: w.review.commands.export("xlsx"))
    action("&Review", "Export the grid as CSV…", lambda: w.review.commands.export("csv"))
    action("&Review", "Export a Word memo…", lambda: w.review.commands.export("docx"))
    delete = QShortcut(QKeySequence.StandardKey.Delete, w.documents.table)
    delete.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    delete.activated.connect(w.documents.request_remove)
    action("&Help", "Where is my data?", w.about_requested.emit)
    return writes
