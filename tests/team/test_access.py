"""Access is denied by default: on every route into a matter, a user outside it gets
nothing (404, the same as for a matter that does not exist) and the attempt is audited;
a member of one matter of fifty still gets full results; PostgreSQL's row-level security
refuses the same rows to the application role on its own."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest

from tests.team.conftest import PASSWORD

pytestmark = pytest.mark.slow

MATTERS = ["acme", "globex"] + [f"matter-{i:02d}" for i in range(48)]
PER_MATTER = 10


def _texts(matter: str) -> list[str]:
    if matter == "acme":
        return [f"Acme supply agreement clause {i}: " + t for i, t in enumerate([
            "This Agreement is governed by the laws of the State of Delaware.",
            "Either party may terminate this Agreement on ninety days written notice.",
            "The Supplier shall deliver the widgets to the Buyer's warehouse in Dover.",
            "All invoices are payable within thirty days of receipt.",
            "The Supplier warrants the widgets are free of defects for one year.",
            "Neither party may assign this Agreement without the other's consent.",
            "Confidential information shall be kept secret for five years.",
            "The Buyer may audit the Supplier's records once a year.",
            "Disputes shall be resolved by arbitration in Wilmington.",
            "The liability of either party is capped at the fees paid in the last year.",
        ])]
    return [f"{matter} memo {i}: the governing law of this {matter} contract is the law of "
            f"{['Texas', 'Ohio', 'Nevada', 'Utah', 'Iowa'][i % 5]}; termination on {30 + i} days notice."
            for i in range(PER_MATTER)]


@pytest.fixture(scope="module")
def world(team, embedder):
    """50 matters of 10 passages each; alice and carol (an auditor) in acme, bob in globex."""
    from team import admin
    from tests.helpers.team_seed import add_document

    docs: dict[str, int] = {}
    passages: dict[str, list[int]] = {}
    with team.admin() as db:
        for name, auditor in (("alice", False), ("bob", False), ("carol", True)):
            admin.user_add(db, name, PASSWORD, auditor)
        for m in MATTERS:
            mid = admin.matter_add(db, m)
            texts = _texts(m)
            vecs = embedder.embed(texts)
            docs[m], passages[m] = add_document(db, mid, f"{m}-contract.txt", texts, np.asarray(vecs))
        admin.member_add(db, "acme", "alice")
        admin.member_add(db, "acme", "carol")
        admin.member_add(db, "globex", "bob")
    return docs, passages


def _routes(routes) -> list:
    out = []
    for r in routes:  # FastAPI may wrap an included router: its routes are inside
        inner = getattr(r, "original_router", None)
        out.extend(_routes(inner.routes) if inner is not None else [r])
    return out


def _matter_routes(app) -> list[tuple[str, str]]:
    """Every route with a matter in its path: found, not listed, so a new one is tested too."""
    out = []
    for r in _routes(app.routes):
        path = getattr(r, "path", "")
        if "{matter}" in path:
            out.extend((m, path) for m in sorted(r.methods))
    return out


def _call(client, method: str, path: str, matter: str, doc_id: int):
    url = path.replace("{matter}", matter).replace("{doc_id}", str(doc_id)).replace("{page}", "1")
    url = url.replace("{job_id}", "1")
    assert not re.search(r"\{\w+\}", url), f"a route parameter this test does not fill: {url}"
    if method == "POST" and url.endswith("/documents"):
        return client.post(url, params={"name": "planted.txt"}, content=b"planted text")
    if method == "POST" and url.endswith("/review"):
        return client.post(url, json={"columns": ["Governing law=What is the governing law?"]})
    if method == "POST":
        return client.post(url, json={"query": "governing law Delaware", "k": 8})
    return client.request(method, url)


def test_every_matter_route_refuses_an_outsider_and_audits_it(team, world):
    docs, _ = world
    routes = _matter_routes(team.app)
    assert len(routes) >= 9  # documents, search, quotes, page, export, review, audit, upload, ingest progress
    with team.client("bob") as bob:
        for method, path in routes:
            before = len(team.audit_rows(user_name="bob", matter="acme", outcome="denied"))
            r = _call(bob, method, path, "acme", docs["acme"])
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert r.json() == {"error": "no such matter, or you are not a member of it"}
            assert "Delaware" not in r.text and "acme-contract" not in r.text
            after = team.audit_rows(user_name="bob", matter="acme", outcome="denied")
            assert len(after) == before + 1, (method, path)
            assert after[-1][4] == []  # no passage shown
    with team.admin() as db:  # the refused upload stored nothing
        assert db.run("SELECT count(*) FROM documents WHERE name = 'planted.txt'")[0][0] == 0


def test_a_matter_that_does_not_exist_looks_the_same(team, world):
    docs, _ = world
    with team.client("bob") as bob:
        for method, path in _matter_routes(team.app):
            r = _call(bob, method, path, "no-such-matter", docs["acme"])
            assert r.status_code == 404
            assert r.json() == {"error": "no such matter, or you are not a member of it"}


def test_no_token_no_answer(team, world):
    docs, _ = world
    with team.client() as anon:
        for method, path in _matter_routes(team.app) + [("GET", "/matters"), ("GET", "/me")]:
            r = _call(anon, method, path, "acme", docs["acme"])
            assert r.status_code == 401, (method, path)
            assert "Delaware" not in r.text
        r = anon.get("/matters", headers={"Authorization": "Bearer forged-token"})
        assert r.status_code == 401


def test_the_matter_list_shows_only_ones_own(team, world):
    with team.client("alice") as alice:
        assert alice.get("/matters").json() == {"matters": ["acme"]}
    with team.client("bob") as bob:
        assert bob.get("/matters").json() == {"matters": ["globex"]}


def test_a_member_of_one_matter_of_fifty_gets_k_results(team, world):
    _, passages = world
    with team.client("alice") as alice:
        r = alice.post("/matters/acme/search", json={"query": "what is the governing law of the contract?", "k": 8})
    assert r.status_code == 200, r.text
    found = r.json()["passages"]
    assert len(found) == 8
    assert {p["chunk_id"] for p in found} <= set(passages["acme"])
    assert "Delaware" in found[0]["text"]
    row = team.audit_rows(user_name="alice", matter="acme", action="search")[-1]
    assert row[3] == "ok" and sorted(row[4]) == sorted(p["chunk_id"] for p in found)


def test_quotes_page_and_export_for_a_member(team, world):
    docs, passages = world
    with team.client("alice") as alice:
        q = alice.post("/matters/acme/quotes", json={"query": "Which state's law governs the agreement?"}).json()
        assert q["quotes"] and "Delaware" in q["quotes"][0]["text"]
        page = alice.get(f"/matters/acme/documents/{docs['acme']}/pages/1").json()
        assert "Delaware" in page["text"]
        # Another matter's document through one's own matter: nothing.
        other = alice.get(f"/matters/acme/documents/{docs['globex']}/pages/1")
        assert other.status_code == 404 and "globex" not in other.text
        csv = alice.post("/matters/acme/export", json={"query": "termination notice", "k": 3})
        assert csv.status_code == 200 and csv.text.startswith("file,page,location")
        assert len(csv.text.strip().splitlines()) == 4
        listing = alice.get("/matters/acme/documents").json()["documents"]
        assert [d["name"] for d in listing] == ["acme-contract.txt"]
        grid = alice.post("/matters/acme/review", json={"columns": ["Governing law=What is the governing law?"]})
        assert grid.status_code == 200, grid.text
        (row,) = grid.json()["rows"]
        assert row["file"] == "acme-contract.txt" and "Delaware" in row["cells"][0]["answer"] + str(
            row["cells"][0]["quotes"])
    actions = {r[2] for r in team.audit_rows(user_name="alice", matter="acme")}
    assert {"quotes", "page", "export", "documents", "search", "review"} <= actions


def test_the_audit_report_is_for_the_matters_auditors(team, world):
    with team.client("bob") as bob:  # first, something to report
        bob.post("/matters/acme/search", json={"query": "Delaware"})
    with team.client("carol") as carol:
        report = carol.get("/matters/acme/audit")
        assert report.status_code == 200
        body = report.json()
        assert any(d["user"] == "bob" and d["outcome"] == "denied" for d in body["denied"])
        assert "alice" in body["users"]
    with team.client("alice") as alice:
        assert alice.get("/matters/acme/audit").status_code == 403
    with team.client("bob") as bob:
        assert bob.get("/matters/acme/audit").status_code == 404


def test_row_level_security_alone_hides_other_matters(team, world):
    """The second line: the application role, as bob, reading acme's rows directly."""
    from team.db import Pool

    pool = Pool(team.app_config, 1)
    try:
        with team.admin() as db:
            bob_id = db.run("SELECT id FROM team_users WHERE name = 'bob'")[0][0]
            acme = db.run("SELECT id FROM matters WHERE name = 'acme'")[0][0]
        for user_id in (bob_id, None):
            with pool.transaction(user_id) as db:
                for table in ("documents", "pages", "passages", "matter_members"):
                    col = "matter_id"
                    assert db.run(f"SELECT count(*) FROM {table} WHERE {col} = :m", m=acme)[0][0] == 0, table
                assert db.run("SELECT count(*) FROM matters WHERE id = :m", m=acme)[0][0] == 0
                seen = db.run("SELECT count(DISTINCT matter_id) FROM passages")[0][0]
                assert seen == (1 if user_id else 0)
    finally:
        pool.close()


def test_signing_in_warms_only_ones_own_matters_and_shows_nothing(team, world):
    """A user who signs in has their matters read in the background (the first search is
    then as fast as the next); only theirs, and nothing is audited for it but the login."""
    import time

    engine = team.app.state.engine
    with team.admin() as db:
        ids = {r[1]: int(r[0]) for r in db.run("SELECT id, name FROM matters")}
        carol = int(db.run("SELECT id FROM team_users WHERE name = 'carol'")[0][0])
    before = len(team.audit_rows(user_name="carol"))
    r = httpx.post(f"{team.url}/login", json={"name": "carol", "password": PASSWORD})
    assert r.status_code == 200
    deadline = time.monotonic() + 30
    while (ids["acme"], carol) not in engine._workers and time.monotonic() < deadline:
        time.sleep(0.05)
    worker = engine._workers[(ids["acme"], carol)]
    with worker.lock:  # the warm-up done: the matter's vectors are in memory
        assert worker.store._vectors is not None and worker.store._vectors[1] is not None
    assert {m for m, u in engine._workers if u == carol} == {ids["acme"]}
    assert [row[2] for row in team.audit_rows(user_name="carol")[before:]] == ["login"]
