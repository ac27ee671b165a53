"""What the window says about the open library: one that could not be opened (damaged,
locked, busy), one that is read-only here, and what the engine repaired on the way.

Every message is the engine's own one line (it says what to do) inside a banner above
the documents: not a modal box, so the user can go on to pick or create another library.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMainWindow, QToolButton, QWidget

from desktop.documents_panel import DocumentsPanel
from desktop.jobs import one_line
from rag.library import Library, LibraryError
from rag.team.matter import TeamMatter

TITLE = "docqa — private document Q&A"
READ_ONLY = ("<b>Read-only library.</b> docqa may read this library's folder but not change it, so "
             "documents cannot be added, removed or synced. Searching and asking work as usual; "
             "this session's chats are kept until docqa closes, not saved in the library.")
READ_ONLY_TIP = ("This library is read-only here: docqa may not write to its folder, so documents "
                 "cannot be added, removed or synced.")
WAITING = "Waiting for another docqa that is setting up “{name}”…"

# Tints that read on the light and the dark palette alike (the text keeps its colour).
_TINT = {"problem": "rgba(217, 83, 79, 0.16)", "read-only": "rgba(224, 168, 0, 0.18)",
         "note": "rgba(61, 111, 180, 0.16)"}
_EDGE = {"problem": "#d9534f", "read-only": "#e0a800", "note": "#3d6fb4"}


def open_problem(name: str, err: BaseException) -> str:
    """One plain paragraph for a library that could not be opened."""
    reason = one_line(err)
    text = f"<b>“{name}” could not be opened.</b> {_escape(reason[:1].upper() + reason[1:])}."
    if not isinstance(err, LibraryError):  # the engine's own errors say what to do already
        text += " You can choose another library on the left, or make a new one with New…"
    return text


def _escape(text: str) -> str:
    text = text.rstrip(".")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Banner(QFrame):
    """A tinted line above the documents, with a button to dismiss it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = ""
        self.about = ""  # the library it speaks of
        self.setObjectName("banner")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Library notice")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setAccessibleName("Dismiss this notice")
        close.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 4, 6)
        row.addWidget(self.label, 1)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def say(self, kind: str, html: str, about: str = "") -> None:
        self.kind, self.about = kind, about
        self.setStyleSheet(f"QFrame#banner {{ background: {_TINT[kind]}; border: 1px solid {_EDGE[kind]};"
                           " border-radius: 4px; }")
        self.label.setText(html)
        self.show()

    def dismiss(self) -> None:
        self.kind = self.about = ""
        self.hide()


class LibraryNotices:
    """Puts one library's state on the window: the banner, the title, and the controls
    that would change the library (disabled, with the reason in their tooltip)."""

    def __init__(self, window: QMainWindow, banner: Banner, documents: DocumentsPanel,
                 write_actions: list[QAction]) -> None:
        self.window = window
        self.banner = banner
        self.documents = documents
        self.write_actions = write_actions
        self._tips = {a: a.toolTip() for a in write_actions}
        self.read_only = False

    def show_library(self, lib: Library | TeamMatter | None) -> None:
        """The newly selected library (None: none, or it did not open)."""
        self.read_only = bool(lib is not None and lib.read_only)
        name = lib.name if lib is not None else ""
        shown = f"{lib.matter} (team matter on {lib.host})" if isinstance(lib, TeamMatter) else name
        title = f"{shown} — {TITLE}" if name else TITLE
        self.window.setWindowTitle(f"{title} (read-only)" if self.read_only else title)
        reason = READ_ONLY_TIP if self.read_only else ""
        self.documents.set_read_only(reason)
        for action in self.write_actions:
            action.setEnabled(not self.read_only)
            action.setToolTip(reason or self._tips[action])
        if self.read_only:
            self.banner.say("read-only", READ_ONLY)
        elif self.banner.kind == "read-only" or (
                # A problem stays up while no other library opened; a note while its library is open.
                self.banner.about != name and not (self.banner.kind == "problem" and lib is None)):
            self.banner.dismiss()

    def open_failed(self, name: str, err: BaseException) -> None:
        self.banner.say("problem", open_problem(name, err), about=name)

    def noted(self, name: str, line: str) -> None:
        """The engine repaired something (e.g. rebuilt the search index): the status bar
        says so, and the banner too unless it carries something more important."""
        self.window.statusBar().showMessage(f"{name}: {line}", 20_000)
        if self.banner.kind in ("", "note") or self.banner.about != name:  # not a warning about this one
            self.banner.say("note", f"<b>{_escape(name)}:</b> {_escape(line)}.", about=name)
