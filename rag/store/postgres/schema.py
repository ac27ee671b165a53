"""Installing the team schema (schema.sql beside this file) and what the application role
is granted. The statements here run on an administrative connection; the application role
only ever gets what :func:`grant_app` gives it."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

SCHEMA_SQL = "schema.sql"
DATA_TABLES = ("matters", "matter_members", "matter_state", "documents", "pages", "passages")
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def schema_text() -> str:
    return resources.files(__package__).joinpath(SCHEMA_SQL).read_text(encoding="utf-8")


def install_schema(conn: Any) -> None:
    """Create (or leave as they are) the tables, indexes and policies; ``conn`` is a
    pg8000.native connection of the role that will own them."""
    conn.run("BEGIN")
    try:
        # Two installs at once (two servers starting) would race on CREATE ... IF NOT EXISTS.
        conn.run("SELECT pg_advisory_xact_lock(hashtext('docqa schema'))")
        conn.run(schema_text())
    except BaseException:
        conn.run("ROLLBACK")
        raise
    conn.run("COMMIT")


def grant_app(conn: Any, role: str) -> None:
    """What the application role needs, and no more: it reads memberships and matters, and
    reads and writes documents, pages and passages (row-level security decides which)."""
    if not _ROLE.fullmatch(role):
        raise ValueError(f"not a plain role name: {role!r}")
    conn.run(f"GRANT SELECT ON matters, matter_members TO {role}")
    conn.run(f"GRANT SELECT, INSERT, UPDATE ON matter_state TO {role}")
    conn.run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON documents, pages, passages TO {role}")
    conn.run(f"GRANT EXECUTE ON FUNCTION docqa_user() TO {role}")


def create_matter(conn: Any, name: str) -> int:
    """A new matter (administrative connection); returns its id."""
    rows = conn.run("INSERT INTO matters(name) VALUES (:name) RETURNING id", name=name)
    return int(rows[0][0])


def add_member(conn: Any, matter_id: int, user_id: int, role: str = "member") -> None:
    conn.run("INSERT INTO matter_members(matter_id, user_id, role) VALUES (:m, :u, :r)"
             " ON CONFLICT (matter_id, user_id) DO UPDATE SET role = EXCLUDED.role",
             m=matter_id, u=user_id, r=role)
