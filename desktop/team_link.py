"""What the main window does differently for a team matter: everything that reaches the
server runs as a job (its documents, a cited page), and the server's refusals are said
plainly: a session that ended signs the app out, a matter the user was taken off is
closed with the access-denied message.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from desktop.chat_store import SourceRef
from rag.team.client import TeamError
from rag.team.matter import TeamMatter, is_team, matter_of

if TYPE_CHECKING:
    from desktop.main_window import MainWindow
    from desktop.team_session import TeamSession

LANE = "team"
DENIED = ("<b>{matter}:</b> the team server refused access: you are not (or no longer) a member of "
          "this matter. Ask its administrator to add you; nothing of it is shown here.")


class TeamLink(QObject):
    def __init__(self, window: MainWindow, session: TeamSession) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        session.signed_out.connect(self._on_signed_out)

    def matter(self, name: str) -> TeamMatter:
        got = self.window.engine.folders.open(name)
        assert isinstance(got, TeamMatter)
        return got

    def refresh_documents(self, name: str) -> None:
        """List the matter's documents from the server, then show them (and the grid's rows)."""
        try:
            matter = self.matter(name)
        except TeamError as err:
            self.refused(name, err)
            return
        job = self.window.engine.runner.submit(f"Listing {matter_of(name)}", LANE, lambda ctx: matter.fetch_documents())
        job.finished.connect(lambda docs: self._on_documents(name, docs))
        job.failed.connect(lambda _reason: self.refused(name, job.exception or TeamError(job.error)))

    def _on_documents(self, name: str, docs: list) -> None:  # type: ignore[type-arg]
        if name != self.window.library:
            return  # another library was picked meanwhile
        self.window.documents.set_documents(docs)
        self.window.review.refresh_documents()

    def show_source(self, source: SourceRef) -> None:
        """Open a cited page: fetched from the server first (in the background), then shown
        with its quote highlighted."""
        name = self.window.library
        try:
            matter = self.matter(name)
        except TeamError as err:
            self.refused(name, err)
            return
        if matter.has_page(source.doc_id, source.page) or not source.doc_id:
            self.window.viewer.show_source(source)
            return
        self.window.statusBar().showMessage(f"Fetching page {source.page} of {source.file}…")
        job = self.window.engine.runner.submit("Fetching a page", LANE,
                                               lambda ctx: matter.page_text(source.doc_id, source.page))
        job.finished.connect(lambda _text: self._on_page(name, source))
        job.failed.connect(lambda _reason: self.refused(name, job.exception or TeamError(job.error)))

    def _on_page(self, name: str, source: SourceRef) -> None:
        self.window.statusBar().clearMessage()
        if name == self.window.library:
            self.window.viewer.show_source(source)

    def refused(self, name: str, err: BaseException) -> None:
        """A failed call to the server, said in the banner (and the app signed out when the
        session ended)."""
        status = getattr(err, "status", 0)
        if status == 401:
            self.session.ended(str(err))
            return
        if status == 404 and is_team(name):
            # Nothing of it stays on the screen: its page, its answers, its rows.
            if name == self.window.library:
                self.window.viewer.clear()
            job = self.session.refresh()  # the matter list as the server sees it now
            denied = DENIED.format(matter=escape(matter_of(name)))
            if job is None:
                self.window.banner.say("problem", denied, about=name)
            else:
                # Said once the list is redrawn and another library selected (which would
                # dismiss a message about this one).
                job.ended.connect(lambda: QTimer.singleShot(0, lambda: self.window.banner.say(
                    "problem", denied, about=self.window.library)))
            return
        self.window.banner.say("problem", f"<b>{escape(matter_of(name))}:</b> {escape(str(err))}", about=name)

    def _on_signed_out(self, reason: str) -> None:
        self.window.banner.say("problem", "<b>Team server:</b> the session ended, so team matters are closed. "
                               "Sign in again in Settings › Team.", about="team")
