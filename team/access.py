"""Who is asking, and may they open this matter: decided here, for every route, and
nowhere else.

:func:`Gate.user` turns the bearer token into a user (401 otherwise). :meth:`Gate.matter`
opens the transaction a matter route works in: as that user (``SET LOCAL docqa.user_id``,
so PostgreSQL's row-level security applies the same rule again underneath), after checking
that the user is a member. A matter that does not exist and one the user is not in look
the same (404: a name is not confirmed to outsiders), and the attempt is written to the
audit trail. Routes receive a :class:`MatterSession` and never query a matter otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from team import audit
from team.accounts import TokenPolicy, User, resolve_token
from team.db import Pool

log = logging.getLogger("docqa.server")

NOT_FOUND = "no such matter, or you are not a member of it"


@dataclass
class MatterSession:
    """One request's transaction inside one matter, as one user."""

    db: Any  # the transaction's connection (pg8000.native)
    user: User
    matter: str
    matter_id: int
    action: str
    audited: bool = False

    def audit(self, passage_ids: Sequence[int] = (), action: str | None = None, **detail: Any) -> None:
        """Record what was shown, in the same transaction: no audit row, no result."""
        audit.record(self.db, self.user.name, action or self.action, matter=self.matter,
                     passage_ids=passage_ids, **detail)
        self.audited = True


class Gate:
    def __init__(self, pool: Pool, policy: TokenPolicy) -> None:
        self.pool = pool
        self.policy = policy

    def user(self, request: Request) -> User:
        """The signed-in user (a FastAPI dependency); 401 without a valid token."""
        token = bearer(request)
        if token:
            # No transaction around it: each of its statements is one of its own (one round
            # trip to PostgreSQL, not three, for every request).
            with self.pool.connection() as db:
                user = resolve_token(db, token, self.policy)
            if user is not None:
                return user
        raise HTTPException(401, "not signed in, or the session ended: sign in again",
                            headers={"WWW-Authenticate": "Bearer"})

    @contextmanager
    def matter(self, user: User, name: str, action: str) -> Iterator[MatterSession]:
        """The transaction for ``action`` in matter ``name``, if ``user`` is a member; 404
        (and an audit row saying so) if not. A route that shows nothing from the matter
        still leaves a row: the access itself is audited."""
        denied = granted = False
        try:
            with self.pool.transaction(user.id) as db:
                matter_id = member_of(db, user.id, name)
                if matter_id is None:
                    audit.record(db, user.name, action, matter=name, outcome="denied")
                    denied = True
                else:
                    granted = True
                    session = MatterSession(db, user, name, matter_id, action)
                    yield session
                    if not session.audited:
                        session.audit()
        except Exception as err:
            if granted:  # its transaction, audit row included, rolled back
                self.record_failure(user, name, action, _reason(err))
            raise
        if denied:
            log.info("denied: %s %s in %r", user.name, action, name)
            raise HTTPException(404, NOT_FOUND)

    def record_failure(self, user: User, name: str, action: str, reason: str) -> None:
        """A request that failed after access was granted: its transaction (and the audit
        row in it) rolled back, so the attempt is recorded on its own."""
        try:
            with self.pool.transaction(user.id) as db:
                audit.record(db, user.name, action, matter=name, outcome="failed", reason=reason[:200])
        except Exception:
            log.exception("could not audit a failed %s", action)


def member_of(db: Any, user_id: int, name: str) -> int | None:
    """The matter's id if ``user_id`` is a member of the matter called ``name``. Row-level
    security filters the same tables again: even a bug here shows no other matter."""
    rows = db.run("SELECT m.id FROM matters m JOIN matter_members mm ON mm.matter_id = m.id "
                  "WHERE m.name = :n AND mm.user_id = :u", n=name, u=user_id)
    return int(rows[0][0]) if rows else None


def my_matters(db: Any, user_id: int) -> list[str]:
    rows = db.run("SELECT m.name FROM matters m JOIN matter_members mm ON mm.matter_id = m.id "
                  "WHERE mm.user_id = :u ORDER BY m.name", u=user_id)
    return [r[0] for r in rows]


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _reason(err: Exception) -> str:
    if isinstance(err, HTTPException):
        return f"{err.status_code} {err.detail}"
    return type(err).__name__
