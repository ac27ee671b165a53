"""The server refuses a database role that would bypass row-level security; tokens expire
and idle out; tampering with the audit table is found by ``docqa-server audit verify``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.team.conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def roles(team_db):
    """A BYPASSRLS role and a role that owns a table, besides the superuser and the app role."""
    owner, _app = team_db
    db = owner.connect()
    try:
        db.run("CREATE ROLE sneaky LOGIN BYPASSRLS")
        db.run("GRANT USAGE ON SCHEMA public TO sneaky")
        db.run("CREATE ROLE tableowner LOGIN")
        db.run("CREATE TABLE owned_by_app (x int)")
        db.run("ALTER TABLE owned_by_app OWNER TO tableowner")
        db.run("CREATE ROLE inheritor LOGIN IN ROLE tableowner")
    finally:
        db.close()
    return team_db


@pytest.mark.parametrize("role,why", [("postgres", "superuser"), ("sneaky", "BYPASSRLS"),
                                      ("tableowner", "owns the table"), ("inheritor", "is a member of")])
def test_the_server_refuses_a_role_that_bypasses_rls(roles, role, why):
    from team.app import create_app
    from team.guard import UnsafeRole
    from team.settings import ServerSettings

    _owner, app = roles
    with pytest.raises(UnsafeRole, match=why):
        create_app(ServerSettings(db=replace(app, user=role)), engine=object())


def test_docqa_server_serve_says_why_in_one_line(roles):
    owner, _app = roles
    env = dict(os.environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "team.cli", "serve", "--db", owner.database, "--db-socket",
                        owner.unix_sock, "--db-user", "postgres", "--port", "1"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: refusing to start") and "superuser" in last


def test_a_role_with_a_preset_user_id_is_refused(roles):
    from team.app import create_app
    from team.guard import UnsafeRole
    from team.settings import ServerSettings

    owner, app = roles
    db = owner.connect()
    try:
        db.run("CREATE ROLE presetter LOGIN")
        db.run("ALTER ROLE presetter SET docqa.user_id = '1'")
    finally:
        db.close()
    with pytest.raises(UnsafeRole, match="default docqa.user_id"):
        create_app(ServerSettings(db=replace(app, user="presetter")), engine=object())


def _users(owner):
    from team import admin
    from tests.helpers.team_server import admin_tx

    with admin_tx(owner) as db:
        if not db.run("SELECT 1 FROM team_users WHERE name = 'tina'"):
            admin.user_add(db, "tina", PASSWORD)


def test_tokens_expire_and_idle_out(team_db):
    """The rules, on the real tables with a clock passed in."""
    from team.accounts import TokenPolicy, User, issue_token, resolve_token
    from tests.helpers.team_server import admin_tx

    owner, _ = team_db
    _users(owner)
    policy = TokenPolicy(lifetime=timedelta(hours=1), idle=timedelta(minutes=10))
    t0 = datetime.now(UTC)
    with admin_tx(owner) as db:
        uid = db.run("SELECT id FROM team_users WHERE name = 'tina'")[0][0]
        user = User(uid, "tina")
        token, _ = issue_token(db, user, policy, t0)
        # Used every 9 minutes it stays valid until its hour is up, then never again.
        for minutes in range(9, 60, 9):
            assert resolve_token(db, token, policy, t0 + timedelta(minutes=minutes)) == user
        assert resolve_token(db, token, policy, t0 + timedelta(minutes=60)) is None
        assert resolve_token(db, token, policy, t0 + timedelta(minutes=1)) is None  # deleted
        idle, _ = issue_token(db, user, policy, t0)
        assert resolve_token(db, idle, policy, t0 + timedelta(minutes=11)) is None
        assert db.run("SELECT count(*) FROM team_tokens")[0][0] == 0


def test_idle_logout_and_logout_through_the_server(team_db, embedder):
    from team.accounts import TokenPolicy
    from team.app import create_app
    from team.engine import Engine
    from team.settings import ServerSettings
    from tests.helpers.team_server import serving

    owner, app_db = team_db
    _users(owner)
    settings = ServerSettings(db=app_db, tokens=TokenPolicy(timedelta(hours=1), timedelta(seconds=1.5)))
    with serving(create_app(settings, Engine(embedder))) as url:
        wrong = httpx.post(f"{url}/login", json={"name": "tina", "password": "not the password"})
        assert wrong.status_code == 401 and wrong.json() == {"error": "wrong name or password"}
        token = httpx.post(f"{url}/login", json={"name": "tina", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/me", headers=auth).status_code == 200
        time.sleep(2)
        r = httpx.get(f"{url}/me", headers=auth)
        assert r.status_code == 401 and "sign in again" in r.json()["error"]
        token = httpx.post(f"{url}/login", json={"name": "tina", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{url}/logout", headers=auth).status_code == 200
        assert httpx.get(f"{url}/me", headers=auth).status_code == 401


def _verify(owner) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "team.cli", "audit", "verify", "--db", owner.database,
                           "--db-socket", owner.unix_sock, "--db-user", "postgres"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_tampering_with_the_audit_table_is_detected(postgres):
    from team import audit
    from tests.helpers.team_server import admin_tx, make_team_db

    owner, _ = make_team_db(postgres, "team_tamper")
    with admin_tx(owner) as db:
        for i in range(6):
            audit.record(db, "alice", "search", matter="acme", passage_ids=[i, i + 1], q=f"q{i}")
    r = _verify(owner)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "7 rows; the chain is intact" in r.stdout  # init's row and six searches

    def broken(sql: str) -> str:
        with admin_tx(owner) as db:
            db.run("CREATE TABLE IF NOT EXISTS keep AS SELECT * FROM team_audit")
            db.run(sql)
        r = _verify(owner)
        with admin_tx(owner) as db:  # put it back for the next case
            db.run("DELETE FROM team_audit")
            db.run("INSERT INTO team_audit SELECT * FROM keep")
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert _verify(owner).returncode == 0
        return r.stdout

    # Hiding which passages someone saw: the row's own hash no longer matches.
    assert "row 3: its content was changed" in broken("UPDATE team_audit SET passage_ids = '{}' WHERE id = 3")
    # ... even with its hash recomputed by whoever edits it: the next row no longer follows.
    out = broken("UPDATE team_audit SET user_name = 'mallory', hash = repeat('a', 64) WHERE id = 4")
    assert "row 5: does not follow" in out
    assert "row 5: rows 4-4 are missing" in broken("DELETE FROM team_audit WHERE id = 4")
    assert "rows were removed from the end" in broken("DELETE FROM team_audit WHERE id = 7")


def test_the_application_role_cannot_change_the_audit_trail(team_db):
    from team.db import Pool

    _owner, app = team_db
    pool = Pool(app, 1)
    try:
        for sql in ("UPDATE team_audit SET outcome = 'ok'", "DELETE FROM team_audit"):
            with pytest.raises(Exception, match="permission denied"), pool.transaction() as db:
                db.run(sql)
    finally:
        pool.close()
