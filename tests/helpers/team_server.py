"""A real docqa-server for tests and the bench: the schema made by ``docqa-server init``'s
own code in a fresh database of the test PostgreSQL (tests/helpers/postgres.py), then
uvicorn serving the app on a free loopback port in a thread.

    db = make_team_db(pg, "t1")            # schema, app role; returns its DbConfig pair
    with serving(app_config, engine) as url: ...
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from team.db import DbConfig
from tests.helpers.postgres import PgServer

APP_ROLE = "docqa_app"


def make_team_db(pg: PgServer, name: str) -> tuple[DbConfig, DbConfig]:
    """A fresh database with both schemas: (admin config as the superuser, app config)."""
    from team import admin

    pg.create_database(name)
    owner = DbConfig(database=name, user="postgres", unix_sock=pg.unix_sock)
    db = owner.connect()
    try:
        admin.init(db, APP_ROLE)
    finally:
        db.close()
    return owner, replace(owner, user=APP_ROLE)


@contextmanager
def admin_tx(owner: DbConfig) -> Iterator[Any]:
    db = owner.connect()
    try:
        db.run("BEGIN")
        yield db
        db.run("COMMIT")
    finally:
        db.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any, *, ssl: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ``app`` on loopback until the block ends; yields its base URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            **({"ssl_certfile": ssl["cert"], "ssl_keyfile": ssl["key"]} if ssl else {}))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("docqa-server did not start")
        time.sleep(0.05)
    try:
        yield f"{'https' if ssl else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
