"""A file uploaded to a matter is parsed in a worker process, embedded and stored, with
progress, and is then found by search; the server also serves HTTPS with --cert/--key."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.team.conftest import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def members(team):
    from team import admin

    with team.admin() as db:
        admin.user_add(db, "uma", PASSWORD)
        admin.user_add(db, "otto", PASSWORD)
        admin.matter_add(db, "harbour")
        admin.matter_add(db, "other")
        admin.member_add(db, "harbour", "uma")
        admin.member_add(db, "other", "otto")


def test_an_upload_is_ingested_with_progress_and_searchable(team, members):
    text = ("Harbour lease\n\n1. Rent\nThe tenant pays a rent of 4,200 euros each month.\n\n"
            "2. Term\nThe lease runs for seven years from 1 March 2026.\n")
    with team.client("uma") as uma:
        r = uma.post("/matters/harbour/documents", params={"name": "lease.txt"}, content=text.encode())
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        states = []
        deadline = time.monotonic() + 120
        while True:
            p = uma.get(f"/matters/harbour/ingest/{job}").json()
            states.append(p["state"])
            if p["state"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert p["state"] == "done", p
        assert p["passages"] >= 1 and p["total"] == p["done"]
        found = uma.post("/matters/harbour/search", json={"query": "how much is the rent?", "k": 3}).json()
        assert "4,200 euros" in found["passages"][0]["text"]
        assert uma.get("/matters/harbour/documents").json()["documents"][0]["name"] == "lease.txt"
        bad = uma.post("/matters/harbour/documents", params={"name": "x.exe"}, content=b"MZ")
        assert bad.status_code == 415 and "unsupported" in bad.json()["error"]
    with team.client("otto") as otto:  # the upload is not in otto's matter, nor reachable from it
        assert otto.post("/matters/other/search", json={"query": "rent 4,200 euros"}).json()["passages"] == []
        assert otto.get(f"/matters/harbour/ingest/{job}").status_code == 404
        assert otto.get(f"/matters/other/ingest/{job}").status_code == 404
    rows = team.audit_rows(user_name="uma", matter="harbour", action="ingest")
    assert rows and rows[-1][3] == "ok" and rows[-1][4]


def test_https_with_a_certificate(team_db, members, embedder, tmp_path):
    trustme = pytest.importorskip("trustme")
    from team.app import create_app
    from team.engine import Engine
    from team.settings import ServerSettings
    from tests.helpers.team_server import serving

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    _owner, app_db = team_db
    app = create_app(ServerSettings(db=app_db), Engine(embedder))
    with serving(app, ssl={"cert": str(tmp_path / "cert.pem"), "key": str(tmp_path / "key.pem")}) as url:
        assert url.startswith("https://")
        r = httpx.post(f"{url}/login", json={"name": "uma", "password": PASSWORD}, verify=str(tmp_path / "ca.pem"))
        assert r.status_code == 200 and r.json()["token"]
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health")  # not trusted without the organisation's CA
