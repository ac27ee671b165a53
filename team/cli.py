"""``docqa-server``: run the team server, and the administrator's commands.

The administrator's commands (``init``, ``user add``, ``matter add``, ``member add``,
``audit verify``) connect as a maintenance role (a superuser or BYPASSRLS: the store's
tables force row-level security even on their owner); ``serve`` connects as the
application role and refuses to start as one that would bypass row-level security.
Database settings come from options or the DOCQA_DB_* environment variables; passwords
only from the environment (DOCQA_DB_PASSWORD) or a prompt, never from the command line.
Errors are one line on stderr and exit 1: no traceback reaches the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from datetime import timedelta
from typing import Any

import rag  # noqa: F401  (offline switches before anything heavy)
from team.db import DbConfig

EXIT_OK, EXIT_ERROR = 0, 1
APP_ROLE = "docqa_app"


def _db_options(p: argparse.ArgumentParser, default_user: str) -> None:
    env = os.environ.get
    p.add_argument("--db", default=env("DOCQA_DB", "docqa"), help="database name (DOCQA_DB)")
    p.add_argument("--db-socket", default=env("DOCQA_DB_SOCKET"), help="PostgreSQL's unix socket file (DOCQA_DB_SOCKET)")
    p.add_argument("--db-host", default=env("DOCQA_DB_HOST", "localhost"), help="(DOCQA_DB_HOST)")
    p.add_argument("--db-port", type=int, default=int(env("DOCQA_DB_PORT", "5432")), help="(DOCQA_DB_PORT)")
    p.add_argument("--db-user", default=env("DOCQA_DB_USER", default_user), help="database role (DOCQA_DB_USER)")
    p.add_argument("--db-ssl", action="store_true", help="TLS to PostgreSQL (another computer)")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="docqa-server", description="docqa's team server: shared matters on PostgreSQL.")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="answer the laptops' requests (HTTPS)")
    _db_options(p, APP_ROLE)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--cert", help="TLS certificate (PEM); without it only loopback is served, over HTTP")
    p.add_argument("--key", help="TLS private key (PEM)")
    p.add_argument("--token-hours", type=float, default=12.0, help="sign-in lifetime (default 12)")
    p.add_argument("--idle-minutes", type=float, default=30.0, help="idle logout (default 30)")
    p.add_argument("--pool", type=int, default=16, help="database connections")

    p = sub.add_parser("init", help="create the schema and the application role")
    _db_options(p, "postgres")
    p.add_argument("--app-role", default=APP_ROLE)

    for name, helptext in (("user", "accounts"), ("matter", "matters"), ("member", "who belongs to a matter")):
        q = sub.add_parser(name, help=helptext)
        qs = q.add_subparsers(dest="action", required=True)
        if name == "user":
            a = qs.add_parser("add", help="add a user (password from DOCQA_NEW_PASSWORD or a prompt)")
            a.add_argument("name")
            a.add_argument("--auditor", action="store_true", help="may read the audit of their matters")
            a = qs.add_parser("password", help="set a user's password (ends their sessions)")
            a.add_argument("name")
        elif name == "matter":
            a = qs.add_parser("add")
            a.add_argument("name")
        else:
            for act in ("add", "remove"):
                a = qs.add_parser(act)
                a.add_argument("matter")
                a.add_argument("user")
        for a in qs.choices.values():
            _db_options(a, "postgres")

    p = sub.add_parser("audit", help="the hash-chained audit trail")
    qs = p.add_subparsers(dest="action", required=True)
    a = qs.add_parser("verify", help="check the chain (exit 1 if it was tampered with)")
    _db_options(a, "postgres")
    a = qs.add_parser("report", help="who did what in a matter (ethical-wall certification)")
    a.add_argument("matter")
    _db_options(a, "postgres")
    a = qs.add_parser("head", help="the last row's hash: keep a copy elsewhere to prove nothing was rewritten")
    _db_options(a, "postgres")
    return ap


def db_config(args: argparse.Namespace) -> DbConfig:
    return DbConfig(database=args.db, user=args.db_user, password=os.environ.get("DOCQA_DB_PASSWORD") or None,
                    unix_sock=args.db_socket, host=args.db_host, port=args.db_port, ssl=args.db_ssl)


def _new_password(name: str) -> str:
    given = os.environ.get("DOCQA_NEW_PASSWORD")
    if given:
        return given
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password for {name}: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the passwords differ")
    return first


def _admin(args: argparse.Namespace) -> int:
    from team import admin, audit

    db = db_config(args).connect()
    try:
        if args.command == "init":
            admin.init(db, args.app_role, os.environ.get("DOCQA_APP_PASSWORD") or None)
            print(f"schema ready; the server connects as {args.app_role!r}")
            return EXIT_OK
        db.run("BEGIN")
        out: Any = None
        if args.command == "user" and args.action == "add":
            admin.user_add(db, args.name, _new_password(args.name), args.auditor)
            out = f"user {args.name!r} added"
        elif args.command == "user":
            from team.accounts import set_password

            if not set_password(db, args.name, _new_password(args.name)):
                raise LookupError(f"no user called {args.name!r}")
            audit.record(db, admin.ADMIN, "user password", user=args.name)
            out = f"password of {args.name!r} changed; their sessions ended"
        elif args.command == "matter":
            admin.matter_add(db, args.name)
            out = f"matter {args.name!r} added"
        elif args.command == "member":
            (admin.member_add if args.action == "add" else admin.member_remove)(db, args.matter, args.user)
            out = f"{args.user!r} {'added to' if args.action == 'add' else 'removed from'} {args.matter!r}"
        elif args.action == "verify":
            v = audit.verify(db)
            for line in v.problems:
                print(line)
            print(f"{v.rows} rows; " + ("the chain is intact" if v.ok else f"{len(v.problems)} problem(s)"))
            db.run("COMMIT")
            return EXIT_OK if v.ok else EXIT_ERROR
        elif args.action == "report":
            out = json.dumps(audit.matter_report(db, args.matter), indent=1)
            audit.record(db, admin.ADMIN, "audit report", matter=args.matter)
        else:
            v = audit.verify(db)
            out = f"{v.rows} {v.head}"
        db.run("COMMIT")
        print(out)
        return EXIT_OK
    finally:
        db.close()


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from team.accounts import TokenPolicy
    from team.app import create_app
    from team.settings import ServerSettings

    if bool(args.cert) != bool(args.key):
        raise ValueError("--cert and --key go together")
    if not args.cert and args.host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError("serving another computer needs TLS: give --cert and --key")
    settings = ServerSettings(db=db_config(args), pool_size=args.pool,
                              tokens=TokenPolicy(timedelta(hours=args.token_hours), timedelta(minutes=args.idle_minutes)))
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, ssl_certfile=args.cert, ssl_keyfile=args.key,
                log_level="warning", access_log=False)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return serve(args) if args.command == "serve" else _admin(args)
    except KeyboardInterrupt:
        return EXIT_ERROR
    except Exception as err:  # one line for the administrator; the detail goes to the log
        logging.getLogger("docqa.server").debug("failed", exc_info=True)
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_ERROR


def _one_line(err: Exception) -> str:
    text = str(err)
    if isinstance(err, dict) or (err.args and isinstance(err.args[0], dict)):
        info = err.args[0]  # pg8000 puts the server's message in a dict
        text = str(info.get("M", text))
    return " ".join(text.split())[:300] or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
