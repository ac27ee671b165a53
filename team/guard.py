"""The server refuses to start as a database role that row-level security would not bind.

The second line of defence (PostgreSQL's row-level security on the store's tables) holds
only if the server's role cannot step around it: a superuser or a BYPASSRLS role skips
every policy, and a table's owner (or any member of the owning role) can switch the
policies off. So at start-up the server checks, as the role it will use for every request:
that role is neither superuser nor BYPASSRLS, owns none of the tables and is no member of
a role that does, the matter tables have row-level security enabled and forced, and no
default user id is preset for it (each transaction must say whose it is).
"""

from __future__ import annotations

from typing import Any

# The store's tables whose rows belong to a matter (rag/store/postgres/schema.sql): each
# must have row-level security enabled and forced. Found by their matter_id column, so a
# table the store adds later is covered without a change here; these must be among them.
REQUIRED_RLS = ("matters", "matter_members")


class UnsafeRole(RuntimeError):
    """The database role would bypass row-level security; the message says how, in one line."""


def check_role(db: Any) -> None:
    me, superuser, bypass = db.run(
        "SELECT current_user, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user")[0]
    if superuser:
        raise UnsafeRole(f"refusing to start: the database role {me!r} is a superuser, which row-level "
                         "security does not bind; use the application role made by 'docqa-server init'")
    if bypass:
        raise UnsafeRole(f"refusing to start: the database role {me!r} has BYPASSRLS; use a role without it")
    owned = db.run(
        "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY 1")
    if owned:
        table, owner = owned[0]
        how = "owns" if owner == me else f"is a member of {owner!r}, which owns"
        raise UnsafeRole(f"refusing to start: the database role {me!r} {how} the table {table!r} and could "
                         "switch its row-level security off; use a role that owns no table")
    rows = db.run(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND (c.relname = ANY(:req) OR EXISTS "
        "(SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'matter_id' AND NOT a.attisdropped))",
        req=list(REQUIRED_RLS))
    tables = {name: (rls, force) for name, rls, force in rows}
    missing = [t for t in REQUIRED_RLS if t not in tables]
    if missing:
        raise UnsafeRole(f"refusing to start: the table {missing[0]!r} is missing; run 'docqa-server init' first")
    loose = sorted(t for t, (rls, force) in tables.items() if not (rls and force))
    if loose:
        raise UnsafeRole(f"refusing to start: row-level security is not enabled and forced on {loose[0]!r}")
    preset = db.run("SELECT coalesce(current_setting('docqa.user_id', true), '')")[0][0]
    if preset:
        raise UnsafeRole(f"refusing to start: the role {me!r} has a default docqa.user_id ({preset!r}); "
                         "remove it (ALTER ROLE ... RESET docqa.user_id)")
