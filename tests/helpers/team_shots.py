"""Screenshots of the desktop app as a team client (issue 21), from the real app against
a real docqa-server and PostgreSQL.

    PYTHONPATH=. xvfb-run -a env QT_QPA_PLATFORM=xcb DOCQA_PASSPHRASE=x \\
        .venv/bin/python -m tests.helpers.team_shots OUTDIR MODEL.gguf

Starts PostgreSQL (tests/helpers/postgres.py) and docqa-server on loopback, makes three
matters (the user is a member of two), uploads four medical reports and two contracts
through the server, then drives the app: Settings › Team filled in and signed in, the
library list with the team matters, an answer in a team matter with its quote opened in
the viewer, the access-denied message once the user is taken off a matter, and a review
grid over the other team matter (each row computed by the server).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWidgets import QApplication

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
REPORTS = ["001 Laparoscopic Gastric Bypass Consult - 2.docx", "021 Gastric Bypass Summary.docx",
           "267 Tonsillectomy  Adenoidectomy - 3.docx", "271 Tonsillectomy.docx"]
CONTRACTS = ["ADIANUTRITION,INC_04_01_2005-EX-10.D2-RESELLER AGREEMENT.PDF",
             "ATMOSENERGYCORP_11_22_2002-EX-10.17-TRANSPORTATION SERVICE AGREEMENT.PDF"]
PASSWORD = "correct horse battery staple, twice"
USER = "noor.haddad"
WARD, DEAL, OTHER = "Ward 4 - J. Doe", "Harbour acquisition", "Acme v. Brightline"
QUESTION = "Does the patient in the gastric bypass consult have any drug allergies?"


def seed(url: str, owner: object) -> None:
    """Users, matters and documents: uploaded through the server, parsed by its workers."""
    from rag.team.client import TeamClient, TeamConfig
    from rag.team.matter import TeamMatter
    from team import admin
    from tests.helpers.team_server import admin_tx

    with admin_tx(owner) as db:  # type: ignore[arg-type]
        admin.user_add(db, USER, PASSWORD)
        for m in (WARD, DEAL, OTHER):
            admin.matter_add(db, m)
        admin.member_add(db, WARD, USER)
        admin.member_add(db, DEAL, USER)
    client = TeamClient(TeamConfig(url=url))
    client.login(USER, PASSWORD)
    for matter, files in ((WARD, [SHARED / "medical-dev" / "docx" / r for r in REPORTS]),
                          (DEAL, [SHARED / "cuad-dev" / "pdf" / c for c in CONTRACTS])):
        report = TeamMatter(client, matter).ingest(files)
        print(f"seeded {matter}: " + ", ".join(f"{r.name} {r.outcome.value} {r.reason}" for r in report.results))
    client.logout()
    client.close()


class Shots:
    def __init__(self, desktop: object, url: str, owner: object, out: Path) -> None:
        self.d = desktop
        self.window = desktop.window  # type: ignore[attr-defined]
        self.url, self.owner, self.out = url, owner, out
        self.error = ""
        self.dialog: object = None

    def fail(self, reason: str) -> None:
        if not self.error:
            self.error = reason
            QApplication.instance().exit(1)  # type: ignore[union-attr]

    def shot(self, widget: object, name: str) -> None:
        widget.grab().save(str(self.out / f"{name}.png"))  # type: ignore[attr-defined]
        print(f"shot {name}.png")

    def start(self) -> None:
        from desktop.settings_dialog import SettingsDialog

        d = self.d
        self.window.libraries.create_library("My documents")  # a library of this computer, beside the team's
        dialog = SettingsDialog(d.settings, d.engine.model_state, self.window, runner=d.runner,  # type: ignore[attr-defined]
                                server_dir=d.data_dir, team=d.team)  # type: ignore[attr-defined]
        self.dialog = dialog
        dialog.tabs.setCurrentWidget(dialog.team)
        dialog.resize(720, 640)
        dialog.show()
        box = dialog.team
        box.url.setText(self.url)
        box.name.setText(USER)
        box.password.setText(PASSWORD)
        QTimer.singleShot(400, self._sign_in)

    def _sign_in(self) -> None:
        self.shot(self.dialog, "team-1-settings-login")
        box = self.dialog.team  # type: ignore[attr-defined]
        self.d.team.changed.connect(self._on_team)  # type: ignore[attr-defined]
        box.sign_in()

    def _on_team(self) -> None:
        if not self.d.team.signed_in or getattr(self, "_listed", False):  # type: ignore[attr-defined]
            return
        self._listed = True
        QTimer.singleShot(400, self._signed_in)

    def _signed_in(self) -> None:
        from rag.team.matter import team_name

        self.shot(self.dialog, "team-2-settings-signed-in")
        self.dialog.accept()  # type: ignore[attr-defined]
        self.window.libraries.refresh(select=team_name(WARD))
        QTimer.singleShot(1500, self._ask)

    def _ask(self) -> None:
        if self.window.documents.model.rowCount() == 0:
            self.fail("the team matter's documents were not listed")
            return
        self.shot(self.window, "team-3-matter-list")
        self.window.chat.answered.connect(self._on_answered)
        if self.window.chat.ask(QUESTION) is None:
            self.fail("the question could not be asked")

    def _on_answered(self, ex: object) -> None:
        if getattr(ex, "error", "") or not getattr(ex, "quotes", None):
            self.fail(f"no quoted answer: {getattr(ex, 'error', '')!r}")
            return
        self.window.chat._on_anchor(QUrl("quote:0:0"))
        QTimer.singleShot(1500, self._answered)

    def _answered(self) -> None:
        from team import admin
        from tests.helpers.team_server import admin_tx

        self.shot(self.window, "team-4-answer")
        with admin_tx(self.owner) as db:  # type: ignore[arg-type]
            admin.member_remove(db, WARD, USER)  # an ethical wall goes up while the matter is open
        self.window.refresh_documents()
        QTimer.singleShot(2500, self._denied)

    def _denied(self) -> None:
        if "refused access" not in self.window.banner.label.text() or self.window.viewer.source is not None:
            self.fail("no access-denied message")
            return
        self.shot(self.window, "team-5-access-denied")
        from rag.team.matter import team_name

        self.window.libraries.refresh(select=team_name(DEAL))
        self.window.tabs.setCurrentWidget(self.window.review)
        self.window.review.ran.connect(lambda _r: QTimer.singleShot(800, self._reviewed))
        QTimer.singleShot(1500, lambda: self.window.review.commands.add_preset("contract"))

    def _reviewed(self) -> None:
        self.shot(self.window, "team-6-review-grid")
        QApplication.instance().exit(0)  # type: ignore[union-attr]


def main() -> int:
    out = Path(sys.argv[1]).resolve()
    model = sys.argv[2]
    out.mkdir(parents=True, exist_ok=True)
    from team.app import create_app
    from team.engine import Engine
    from team.settings import ServerSettings
    from tests.helpers.postgres import start_postgres
    from tests.helpers.team_server import make_team_db, serving

    pg = start_postgres()
    try:
        owner, app_config = make_team_db(pg, "shots")
        app_obj = create_app(ServerSettings(db=app_config), Engine())
        with serving(app_obj) as url, tempfile.TemporaryDirectory(prefix="docqa-shots-") as home:
            seed(url, owner)
            os.environ["DOCQA_HOME"] = home
            from desktop.app import DesktopApp, make_qapplication
            from desktop.settings import Settings

            app = make_qapplication([sys.argv[0]])
            desktop = DesktopApp(app, data_dir=Path(home),
                                 settings=Settings(model_path=model, first_run_done=True, threads=1))
            desktop.window.resize(1500, 950)
            desktop.window.show()
            run = Shots(desktop, url, owner, out)
            QTimer.singleShot(0, run.start)
            QTimer.singleShot(400_000, lambda: run.fail("timed out"))
            app.exec()
            desktop.shutdown()
    finally:
        pg.stop()
    if run.error:
        print(f"shots: {run.error}", file=sys.stderr)
        return 1
    print(f"shots: saved in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
