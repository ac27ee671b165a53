"""A team matter used like a library (rag/team/matter.py) against a real docqa-server: its
documents, pages (kept in memory), quotes, an answer written here from the server's quotes
and checked, uploads, review rows; and the refusals a member of another matter gets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.team.client import TeamClient, TeamConfig, TeamError
from rag.team.matter import TeamMatter, is_team, matter_of, team_name
from rag.types import DocStatus, Outcome
from tests.team.conftest import PASSWORD


@pytest.fixture(scope="module")
def seeded(team, embedder):
    from team import admin
    from tests.helpers.team_seed import add_document

    lease = ["The lease of the harbour office runs for seven years from 1 March 2026.",
             "The tenant pays a monthly rent of 4,200 euros to the landlord.",
             "This lease is governed by the laws of the Netherlands."]
    with team.admin() as db:
        admin.user_add(db, "mia", PASSWORD)
        admin.user_add(db, "otto", PASSWORD)
        mid = admin.matter_add(db, "harbour")
        other = admin.matter_add(db, "warehouse")
        add_document(db, mid, "lease.txt", lease, np.asarray(embedder.embed(lease)))
        add_document(db, other, "storage.txt", ["Storage costs 90 euros a month."],
                     np.asarray(embedder.embed(["Storage costs 90 euros a month."])))
        admin.member_add(db, "harbour", "mia")
        admin.member_add(db, "warehouse", "otto")


def _matter(team, user: str, name: str) -> TeamMatter:
    return TeamMatter(TeamClient(TeamConfig(url=team.url), team.token(user)), name)


def test_names_in_the_app():
    assert team_name("harbour") == "team:harbour" and is_team("team:harbour") and not is_team("harbour")
    assert matter_of("team:harbour") == "harbour"


def test_documents_pages_and_quotes(team, seeded):
    m = _matter(team, "mia", "harbour")
    docs = m.documents()
    assert [(d.name, d.status) for d in docs] == [("lease.txt", DocStatus.READY)]
    assert docs[0].path == ""  # no file on this computer: the viewer shows the page's text
    assert m.find("lease.txt") == docs and m.find("nothing.txt") == []
    quotes = m.quotes_first("What rent does the tenant pay?")
    assert quotes and "4,200 euros" in quotes[0].text
    q = quotes[0]
    assert q.passage.doc_id == docs[0].id and q.passage.file == "lease.txt"
    page = m.page_text(q.passage.doc_id, q.passage.page)
    assert page[q.start:q.end] == q.text  # the viewer highlights exactly the quote
    before = len(team.audit_rows(user_name="mia", action="page"))
    assert m.page_text(q.passage.doc_id, q.passage.page) == page and m.has_page(q.passage.doc_id, q.passage.page)
    assert len(team.audit_rows(user_name="mia", action="page")) == before  # kept in memory, not asked again
    m.close()
    assert not m.has_page(q.passage.doc_id, q.passage.page)


def test_answer_is_written_here_from_the_servers_quotes(team, seeded, tiny_gguf):
    from rag.ask.answer import NOT_FOUND
    from rag.ask.generation import LlamaGenerator

    m = _matter(team, "mia", "harbour")
    gen = LlamaGenerator(tiny_gguf, context_size=1024, threads=1)
    try:
        shown: list[list] = []
        ans = m.ask("What rent does the tenant pay?", gen, on_quotes=shown.append, max_tokens=16)
        assert ans.grounded and ans.quotes and "4,200 euros" in ans.quotes[0].text
        assert shown and shown[0] == ans.quotes
        assert ans.citations and ans.citations[0].passage.file == "lease.txt"
        declined = m.ask("Which medication was the patient discharged on?", gen, max_tokens=16)
        assert declined.text == NOT_FOUND and not declined.quotes
    finally:
        gen.close()


def test_outsider_is_refused_and_sees_nothing(team, seeded):
    m = _matter(team, "otto", "harbour")
    for call in (m.documents, lambda: m.quotes_first("rent"), lambda: m.page_text(1, 1)):
        with pytest.raises(TeamError) as err:
            call()
        assert err.value.status == 404 and "not a member" in str(err.value)
    assert ("otto", "harbour", "documents", "denied", None) in [
        (r[0], r[1], r[2], r[3], r[4] or None) for r in team.audit_rows(user_name="otto")]


def test_expired_session_says_signed_out(team, seeded):
    m = TeamMatter(TeamClient(TeamConfig(url=team.url), "not-a-token"), "harbour")
    with pytest.raises(TeamError) as err:
        m.documents()
    assert err.value.signed_out


def test_upload_and_review(team, seeded, tmp_path: Path):
    from rag.ask.review.cells import FOUND
    from rag.ask.review.columns import Column

    note = tmp_path / "side letter.txt"
    note.write_text("Side letter. The landlord may not assign this lease without the tenant's written consent.\n")
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    m = _matter(team, "mia", "harbour")
    seen = []
    report = m.ingest([note, bad], progress=seen.append)
    outcomes = {r.name: r.outcome for r in report.results}
    assert outcomes["side letter.txt"] is Outcome.INDEXED
    assert outcomes["empty.txt"] is Outcome.FAILED and report.failed[0].reason
    assert seen and seen[-1].stage == "done"
    names = {d.name for d in m.fetch_documents()}
    assert {"lease.txt", "side letter.txt"} <= names

    cols = [Column("Governing law", "Which law governs this lease?"), Column("Rent", "How much is the rent?")]
    cells = []
    result = m.review(cols, on_cell=cells.append)
    lease = m.find("lease.txt")[0].id
    law = result.cell(lease, "Governing law")
    assert law is not None and law.status == FOUND and "Netherlands" in law.quotes[0].text
    assert law.quotes[0].passage.doc_id == lease
    assert len(cells) == len(result.documents) * 2
    gid = m.save_grid("Lease review", cols)
    m.mark_cell(gid, lease, "Rent", "verified", note="checked against the signed copy")
    assert m.marks(gid)[(lease, "Rent")].note == "checked against the signed copy"
    assert m.saved_grid("Lease review") is not None
