"""Connections to PostgreSQL, and the one way the server opens a transaction: as a user.

pg8000 (BSD-3-Clause, pure Python) is the driver: psycopg is LGPL. Its connections are
blocking, so the server's routes are plain ``def`` functions that FastAPI runs in its
thread pool, each borrowing a connection from :class:`Pool` for one transaction.

Every transaction the server runs for a request starts with
``set_config('docqa.user_id', <id>, true)``, which is ``SET LOCAL``: the row-level
security policies of the store's tables read it, and it ends with the transaction, so a
pooled connection never carries one user's identity into the next user's request.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pg8000.native

USER_SETTING = "docqa.user_id"


@dataclass(frozen=True)
class DbConfig:
    """Where the database is and as whom to connect. ``unix_sock`` (a socket file path)
    or ``host``/``port``; a password only where the server's pg_hba asks for one."""

    database: str
    user: str
    password: str | None = field(default=None, repr=False)
    unix_sock: str | None = None
    host: str = "localhost"
    port: int = 5432
    ssl: bool = False  # TLS to a PostgreSQL on another computer

    def as_user(self, user: str, password: str | None = None) -> DbConfig:
        return replace(self, user=user, password=password)

    def connect(self) -> Connection:
        kwargs: dict[str, Any] = {"user": self.user, "database": self.database, "password": self.password,
                                  "application_name": "docqa-server"}
        if self.unix_sock:
            kwargs["unix_sock"] = self.unix_sock
        else:
            kwargs.update(host=self.host, port=self.port)
            if self.ssl:
                import ssl

                kwargs["ssl_context"] = ssl.create_default_context()
        return Connection(**kwargs)


class Connection(pg8000.native.Connection):  # type: ignore[misc]
    """pg8000's connection, with each statement that takes parameters prepared once per
    connection and run by name after: pg8000 runs an unnamed statement in three round trips
    (parse, describe, execute), and PostgreSQL parses and plans it every time; a prepared
    one is one round trip, and after five runs PostgreSQL may keep a generic plan. A search
    runs a dozen such statements (gate, store, audit), the same text each time."""

    MAX_PREPARED = 200  # statement texts per connection (they are few: the oldest goes first)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepared: OrderedDict[str, pg8000.native.PreparedStatement] = OrderedDict()

    def run(self, sql: str, stream: Any = None, types: Any = None, **params: Any) -> Any:
        if not params or stream is not None or types is not None:
            return super().run(sql, stream=stream, types=types, **params)
        ps = self._prepared.get(sql)
        if ps is None:
            ps = self.prepare(sql)
            self._prepared[sql] = ps
            while len(self._prepared) > self.MAX_PREPARED:
                self._prepared.popitem(last=False)[1].close()
        else:
            self._prepared.move_to_end(sql)
        rows = ps.run(**params)
        self._context = ps._context  # row_count and columns, as after an unnamed run
        return rows


class Pool:
    """A fixed-size pool of connections, made on demand. A connection that cannot roll
    back after an error is closed rather than given back."""

    def __init__(self, config: DbConfig, size: int = 10) -> None:
        self.config = config
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        self._slots.acquire()
        conn: Connection | None = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self.config.connect()
            yield conn
        except BaseException:
            # An error in the request (a refusal, say) leaves a sound connection once
            # rolled back; one that cannot even roll back is dropped.
            if conn is not None:
                try:
                    conn.run("ROLLBACK")
                except Exception:
                    _close_quietly(conn)
                    conn = None
            raise
        finally:
            if conn is not None and not self._closed:
                self._idle.put(conn)
            elif conn is not None:
                _close_quietly(conn)
            self._slots.release()

    @contextmanager
    def transaction(self, user_id: int | None = None) -> Iterator[Connection]:
        """A connection inside one transaction; with ``user_id``, as that user for
        row-level security. Committed when the block ends, rolled back if it raises."""
        with self.connection() as conn:
            conn.run("BEGIN")
            if user_id is not None:
                conn.run("SELECT set_config(:k, :v, true)", k=USER_SETTING, v=str(user_id))
            yield conn
            conn.run("COMMIT")

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                return


def _close_quietly(conn: pg8000.native.Connection) -> None:
    try:
        conn.close()
    except Exception:
        pass


def quote_ident(name: str) -> str:
    """A role or database name as an SQL identifier (they cannot be query parameters)."""
    return '"' + name.replace('"', '""') + '"'
