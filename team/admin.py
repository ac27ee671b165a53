"""What only the database's owner role does: make the schema and the application role,
add users, matters and members. ``docqa-server init``, ``user add``, ``matter add`` and
``member add`` call these with a connection as the owner; every change is audited.

The owner role here must be a superuser or a BYPASSRLS maintenance role: the store's
tables FORCE row-level security, which binds even their owner (rag/store/postgres/schema.sql).
The application role the server runs as can read and write documents, pages and passages
(row-level security limits it to the current user's matters), read the matters and their
members, sign users in, and add audit rows: it can neither change nor delete them, nor
change who belongs to which matter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from team import audit
from team.accounts import add_user
from team.db import quote_ident

TEAM_SCHEMA = Path(__file__).with_name("schema.sql")
ADMIN = "admin"  # the audit trail's name for changes made with the owner role from the CLI


def init(db: Any, app_role: str, app_password: str | None = None) -> None:
    """Create (or bring up to date) both schemas and the application role with its grants.
    ``db`` is a pg8000.native connection as the owner, outside a transaction."""
    from rag.store.postgres.schema import grant_app, install_schema

    install_schema(db)
    role = quote_ident(app_role)
    db.run("BEGIN")
    try:
        db.run("SELECT pg_advisory_xact_lock(hashtext('docqa schema'))")
        db.run(TEAM_SCHEMA.read_text())
        if not db.run("SELECT 1 FROM pg_roles WHERE rolname = :r", r=app_role):
            db.run(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        if app_password:
            # A role's password cannot be a query parameter; quoted as an SQL literal instead.
            db.run(f"ALTER ROLE {role} PASSWORD {_literal(app_password)}")
        schema = quote_ident(db.run("SELECT current_schema()")[0][0])
        db.run(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        grant_app(db, app_role)
        for table, grant in TEAM_GRANTS.items():
            db.run(f"GRANT {grant} ON {table} TO {role}")
        audit.record(db, ADMIN, "init", app_role=app_role)
    except BaseException:
        db.run("ROLLBACK")
        raise
    db.run("COMMIT")


# The server's own tables. It can add audit rows but never change or remove them.
TEAM_GRANTS = {
    "team_users": "SELECT, UPDATE",  # UPDATE: a password re-hashed with newer parameters
    "team_tokens": "SELECT, INSERT, UPDATE, DELETE",
    "team_audit": "SELECT, INSERT",
    "team_audit_head": "SELECT, UPDATE",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def user_add(db: Any, name: str, password: str, auditor: bool = False) -> int:
    if db.run("SELECT 1 FROM team_users WHERE name = :n", n=name):
        raise ValueError(f"a user called {name!r} exists already")
    uid = add_user(db, name, password, auditor)
    audit.record(db, ADMIN, "user add", user=name, auditor=auditor)
    return uid


def matter_add(db: Any, name: str) -> int:
    if db.run("SELECT 1 FROM matters WHERE name = :n", n=name):
        raise ValueError(f"a matter called {name!r} exists already")
    from rag.store.postgres.schema import create_matter

    mid = create_matter(db, name)
    audit.record(db, ADMIN, "matter add", matter=name)
    return mid


def member_add(db: Any, matter: str, user: str, role: str = "member") -> None:
    from rag.store.postgres.schema import add_member

    m = db.run("SELECT id FROM matters WHERE name = :n", n=matter)
    u = db.run("SELECT id FROM team_users WHERE name = :n", n=user)
    if not m or not u:
        raise LookupError(f"no matter called {matter!r}" if not m else f"no user called {user!r}")
    add_member(db, int(m[0][0]), int(u[0][0]), role)
    audit.record(db, ADMIN, "member add", matter=matter, user=user, role=role)


def member_remove(db: Any, matter: str, user: str) -> None:
    db.run("DELETE FROM matter_members WHERE matter_id = (SELECT id FROM matters WHERE name = :m) "
           "AND user_id = (SELECT id FROM team_users WHERE name = :u)", m=matter, u=user)
    if db.row_count == 0:
        raise LookupError(f"{user!r} is not a member of {matter!r}")
    audit.record(db, ADMIN, "member remove", matter=matter, user=user)
