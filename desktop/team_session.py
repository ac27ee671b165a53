"""The app's connection to the team server: signed in or not, the matters the user may
open, and each opened matter (:class:`rag.team.matter.TeamMatter`).

Every call to the server runs as a job on the ``"team"`` lane, never on the UI thread.
The server's address is in ``team.json`` (shared with ``docqa connect``), the token in the
OS keychain (``docqa login`` and Settings › Team sign in the same way). Nothing a matter
holds is written to disk here.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Signal

from desktop.jobs import Job, JobRunner
from rag.team import client as tc
from rag.team.matter import TeamMatter

LANE = "team"


class TeamSession(QObject):
    changed = Signal()  # signed in or out, or the list of matters changed
    signed_out = Signal(str)  # the server ended the session (a line for the user)

    def __init__(self, runner: JobRunner, folder: Path | None = None) -> None:
        super().__init__()
        self.runner = runner
        self.folder = folder
        self.config = tc.load(folder)
        self.client: tc.TeamClient | None = None
        self.matters: list[str] = []
        self.user = ""
        self.error = ""  # why the matters could not be listed ("" when they were)
        self._open: dict[str, TeamMatter] = {}

    @property
    def host(self) -> str:
        return urlsplit(self.config.url).netloc if self.config.url else ""

    @property
    def signed_in(self) -> bool:
        return self.client is not None and bool(self.user)

    def status(self) -> str:
        """One line: where the team server stands, for Settings › Team and the panel."""
        if not self.config.url:
            return "Not connected to a team server"
        if self.signed_in:
            n = len(self.matters)
            return f"Signed in to {self.host} as {self.user} · {n} matter{'s' if n != 1 else ''}"
        return f"{self.host}: {self.error or 'signed out'}"

    # -- at start-up, and after signing in ---------------------------------------------
    def resume(self) -> Job | None:
        """Sign in again with the token in the keychain (if any) and list the matters."""
        self.config = tc.load(self.folder)
        if not self.config.url:
            return None
        token = tc.get_token(self.config.url)
        if not token:
            self.error = "signed out"
            self.changed.emit()
            return None
        config = self.config

        def work(ctx: object) -> tuple[tc.TeamClient, list[str]]:
            client = tc.TeamClient(config, token)
            try:
                return client, client.matters()
            except BaseException:
                client.close()
                raise

        job = self.runner.submit("Listing the team matters", LANE, work)
        job.finished.connect(self._on_listed)
        job.failed.connect(self._on_list_failed)
        return job

    def _on_listed(self, result: tuple[tc.TeamClient, list[str]]) -> None:
        client, matters = result
        self._replace_client(client)
        self.user = self.config.user or "you"
        self.matters = matters
        self.error = ""
        self.changed.emit()

    def _on_list_failed(self, reason: str) -> None:
        self._replace_client(None)
        self.user, self.matters = "", []
        self.error = reason
        self.changed.emit()

    def refresh(self) -> Job | None:
        return self.resume()

    # -- Settings › Team ---------------------------------------------------------------
    def sign_in(self, url: str, name: str, password: str, *, unencrypted: bool = False, ca_file: str = "") -> Job:
        """Connect to ``url`` and sign in as ``name`` (in the background: the server may be
        slow or away). The job's ``finished`` carries the status line."""
        folder = self.folder

        def work(ctx: object) -> tuple[tc.TeamClient, list[str], tc.TeamConfig]:
            config = tc.connect(url, unencrypted=unencrypted, ca_file=ca_file, folder=folder)
            client = tc.TeamClient(config)
            try:
                token = client.login(name, password)
                config = tc.TeamConfig(config.url, name, config.unencrypted, config.ca_file)
                tc.save(config, folder)
                tc.store_token(config.url, token)
                return client, client.matters(), config
            except BaseException:
                client.close()
                raise

        job = self.runner.submit("Signing in to the team server", LANE, work)
        job.finished.connect(self._on_signed_in)
        return job

    def _on_signed_in(self, result: tuple[tc.TeamClient, list[str], tc.TeamConfig]) -> None:
        client, matters, config = result
        self.config = config
        self._on_listed((client, matters))

    def sign_out(self) -> Job:
        client, config = self.client, self.config

        def work(ctx: object) -> None:
            try:
                if client is not None:
                    client.logout()
            except tc.TeamError:
                pass  # already ended on the server: forgotten here all the same
            if config.url:
                tc.forget_token(config.url)

        self._replace_client(None)
        self.user, self.matters, self.error = "", [], "signed out"
        job = self.runner.submit("Signing out of the team server", LANE, work)
        job.ended.connect(self.changed.emit)
        return job

    def ended(self, reason: str) -> None:
        """The server said the session is over (a token expired or idle): signed out here
        too, once, and the user told why."""
        if not self.signed_in:
            return
        self._replace_client(None)
        self.user, self.matters, self.error = "", [], "signed out (the session ended)"
        self.changed.emit()
        self.signed_out.emit(reason)

    # -- matters -----------------------------------------------------------------------
    def open(self, matter: str) -> TeamMatter:
        if self.client is None:
            raise tc.TeamError("not signed in to the team server: Settings › Team", 401)
        got = self._open.get(matter)
        if got is None:
            # Listed by desktop/team_link.py in a job: the UI thread never waits on the server.
            got = self._open[matter] = TeamMatter(self.client, matter, listed_later=True)
        return got

    def _replace_client(self, client: tc.TeamClient | None) -> None:
        old, self.client = self.client, client
        for m in self._open.values():
            m.close()  # pages kept in memory go with the session
        self._open.clear()
        if old is not None and old is not client:
            old.close()

    def close(self) -> None:
        self._replace_client(None)
