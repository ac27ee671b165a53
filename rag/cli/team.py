"""``docqa connect``, ``login``, ``logout``, ``matters``, and ``docqa --matter NAME
search`` against the team server (rag/team/client.py); ``--matter NAME ask`` is
rag/cli/ask.py's, over :class:`rag.team.matter.TeamMatter`."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

from rag.cli.common import EXIT_ERROR, EXIT_OK
from rag.cli.text import place, shown

COMMANDS = ("connect", "login", "logout", "matters")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("connect", help="use a team server (docqa-server) for shared matters")
    p.add_argument("url", help="https://HOST[:PORT]")
    p.add_argument("--unencrypted", action="store_true", help="allow http:// to another computer")
    p.add_argument("--ca", default="", metavar="FILE", help="the organisation's CA certificate (PEM)")
    p = sub.add_parser("login", help="sign in to the team server (password from DOCQA_TEAM_PASSWORD or a prompt)")
    p.add_argument("name", nargs="?")
    sub.add_parser("logout", help="sign out of the team server")
    p = sub.add_parser("matters", help="the team matters you may open")
    p.add_argument("--json", action="store_true")


def client(with_token: bool = True) -> Any:
    from rag.team import client as tc

    config = tc.load()
    token = tc.get_token(config.url) if with_token and config.url else None
    if with_token and config.url and not token:
        raise tc.TeamError("not signed in to the team server: docqa login")
    return tc.TeamClient(config, token)


def run(args: argparse.Namespace) -> int:
    from rag.team import client as tc

    if args.command == "connect":
        config = tc.connect(args.url, unencrypted=args.unencrypted, ca_file=args.ca)
        print(f"team server: {config.url} (now: docqa login)")
        return EXIT_OK
    if args.command == "login":
        config = tc.load()
        name = args.name or config.user or input("name: ")
        password = os.environ.get("DOCQA_TEAM_PASSWORD") or getpass.getpass(f"password for {name}: ")
        with client(with_token=False) as c:
            token = c.login(name, password)
        kept = tc.store_token(config.url, token)
        tc.save(tc.TeamConfig(config.url, name, config.unencrypted, config.ca_file))
        print(f"signed in as {name}" + ("" if kept else " (no keychain here: for this process only)"))
        return EXIT_OK
    if args.command == "logout":
        config = tc.load()
        try:
            with client() as c:
                c.logout()
        except tc.TeamError:
            pass  # already signed out on the server: forget it here all the same
        tc.forget_token(config.url)
        print("signed out")
        return EXIT_OK
    with client() as c:
        names = c.matters()
    if args.json:
        print(json.dumps(names))
    else:
        print("\n".join(names) if names else "you are not a member of any matter")
    return EXIT_OK


def search(args: argparse.Namespace) -> int:
    if not args.query:
        print("error: a query (team matters take no --batch)", file=sys.stderr)
        return EXIT_ERROR
    with client() as c:
        found = c.search(args.matter, args.query, args.k)
    if args.json:
        print(json.dumps(found, indent=1))
        return EXIT_OK
    for i, p in enumerate(found, 1):
        print(f"[{i}] {place(p['file'], p['location'] or '')} (score {p['score']:.3f})")
        print(f"    {shown(' '.join(p['text'].split())[:300])}")
    return EXIT_OK
