"""A real PostgreSQL (the session's ``postgres`` fixture), a fresh team database per test
module, and a real docqa-server on loopback serving it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from team.db import DbConfig

_names = itertools.count(1)
PASSWORD = "a long test password"


class Team:
    """The module's database, server and a client per user."""

    def __init__(self, owner: DbConfig, app: DbConfig, url: str, app_obj: Any) -> None:
        self.owner, self.app_config, self.url, self.app = owner, app, url, app_obj
        self._tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self._tokens:
            r = httpx.post(f"{self.url}/login", json={"name": user, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[user] = r.json()["token"]
        return self._tokens[user]

    def client(self, user: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def admin(self) -> Any:
        from tests.helpers.team_server import admin_tx

        return admin_tx(self.owner)

    def audit_rows(self, **where: str) -> list[tuple]:
        clause = " AND ".join(f"{k} = :{k}" for k in where) or "true"
        with self.admin() as db:
            return [tuple(r) for r in db.run(
                f"SELECT user_name, matter, action, outcome, passage_ids FROM team_audit WHERE {clause} ORDER BY id",
                **where)]


@pytest.fixture(scope="module")
def team_db(postgres) -> tuple[DbConfig, DbConfig]:
    from tests.helpers.team_server import make_team_db

    return make_team_db(postgres, f"team{next(_names)}")


@pytest.fixture(scope="module")
def team(team_db, embedder) -> Iterator[Team]:
    from team.app import create_app
    from team.engine import Engine
    from team.settings import ServerSettings
    from tests.helpers.team_server import serving

    owner, app_config = team_db
    app = create_app(ServerSettings(db=app_config), Engine(embedder))
    with serving(app) as url:
        yield Team(owner, app_config, url, app)
