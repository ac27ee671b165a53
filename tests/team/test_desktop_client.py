"""The desktop app as a team client, against a real docqa-server: Settings › Team signs in
(the token in the keychain), the library list shows only the user's matters, a team
matter is asked like a library (quotes from the server, the answer written here, the
cited page fetched and highlighted), chats stay in memory, and a member taken off a
matter gets the access-denied message."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QUrl  # noqa: E402

from rag.team.matter import team_name  # noqa: E402
from tests.desktop.conftest import desktop, window  # noqa: E402, F401  (the app's fixtures)
from tests.team.conftest import PASSWORD  # noqa: E402


@pytest.fixture(scope="module")
def seeded(team, embedder):
    from team import admin
    from tests.helpers.team_seed import add_document

    lease = ["The lease of the harbour office runs for seven years from 1 March 2026.",
             "The tenant pays a monthly rent of 4,200 euros to the landlord."]
    with team.admin() as db:
        admin.user_add(db, "noor", PASSWORD)
        mid = admin.matter_add(db, "harbour")
        admin.matter_add(db, "other client")
        add_document(db, mid, "lease.txt", lease, np.asarray(embedder.embed(lease)))
        admin.member_add(db, "harbour", "noor")


def _panel_rows(w) -> list[str]:
    ls = w.libraries.list
    return [ls.item(i).text().strip() for i in range(ls.count())]


def test_sign_in_ask_and_access_denied(qtbot, desktop, window, team, seeded, tmp_path) -> None:  # noqa: F811
    from desktop.team_settings import TeamBox
    from rag.team import client as tc
    from team import admin

    box = TeamBox(desktop.team)
    qtbot.addWidget(box)
    box.url.setText(team.url)
    box.name.setText("noor")
    box.password.setText(PASSWORD)
    box.sign_in()
    assert box.password.text() == ""  # never kept, not even in the field
    qtbot.waitUntil(lambda: desktop.team.signed_in, timeout=30_000)
    assert tc.get_token(team.url)  # in the (test's in-memory) keychain
    assert "noor" in box.result.text() and [box.matters.item(i).text() for i in range(box.matters.count())] == ["harbour"]
    rows = _panel_rows(window)
    host = team.url.split("//")[1]
    assert f"Team · {host}" in rows and "harbour" in rows and "other client" not in rows

    window.libraries.refresh(select=team_name("harbour"))
    assert window.library == team_name("harbour")
    assert "harbour (team matter on" in window.windowTitle()
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 1, timeout=30_000)
    assert not window.libraries.delete_btn.isEnabled()  # deleted on the server, by its administrator

    with qtbot.waitSignal(window.chat.answered, timeout=120_000) as answered:
        assert window.chat.ask("What rent does the tenant pay?") is not None
    ex = answered.args[0]
    assert ex.quotes and "4,200 euros" in ex.quotes[0].text and not ex.error
    assert window.chat.store is not None and window.chat.store.read_only  # in memory: no copy here
    with qtbot.waitSignal(window.viewer.opened, timeout=30_000):
        window.chat.transcript.anchorClicked.emit(QUrl("quote:0:0"))
    assert "4,200 euros" in window.viewer.text_view.toPlainText()

    # A drop uploads to the server, which parses and indexes it; the row appears here.
    note = tmp_path / "side letter.txt"
    note.write_text("Side letter. The landlord may not assign this lease without the tenant's consent.\n")
    job = window.add_paths([note])
    assert job is not None
    qtbot.waitUntil(lambda: not job.running and window.documents.job is None, timeout=60_000)
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 2, timeout=30_000)
    assert window.documents.result_label.text().startswith("1 added")

    with team.admin() as db:
        admin.member_remove(db, "harbour", "noor")
    window.refresh_documents()
    qtbot.waitUntil(lambda: "refused access" in window.banner.label.text(), timeout=30_000)
    qtbot.waitUntil(lambda: "harbour" not in _panel_rows(window), timeout=30_000)
    qtbot.waitUntil(lambda: "refused access" in window.banner.label.text(), timeout=10_000)  # said after the redraw
    assert window.viewer.source is None and "4,200" not in window.viewer.text_view.toPlainText()
    assert window.library != team_name("harbour")
