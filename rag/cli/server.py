"""``docqa server set URL|off|show|key|test``: answers from a server in the organisation.

The key is read from standard input or typed at a hidden prompt, never from the command
line (where other accounts' ``ps`` would see it), and kept in the OS keychain.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict, replace
from typing import Any

from rag.ask import server_config as sc
from rag.cli.common import EXIT_ERROR, EXIT_OK
from rag.cli.text import shown
from rag.store.keys import KeyUnavailable

FALLBACK_HINT = "the quotes above need no model; to answer on this computer instead: docqa ask --local QUESTION"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("server", help="answers from a server in your organisation, or from this computer")
    s = p.add_subparsers(dest="server_command", required=True)
    q = s.add_parser("set", help="answer with the server at URL (https://, or http:// to this computer)")
    q.add_argument("url", help="the server's base URL, e.g. https://gpu-server.firm.local:8443, or off")
    q.add_argument("--model", default=None, help="the server's model to use (default: its first)")
    q.add_argument("--unencrypted", action="store_true",
                   help="allow http:// to another computer: questions and quotes cross the network readable")
    q.add_argument("--ca-file", default=None, help="a CA bundle to trust besides the OS trust store")
    q.add_argument("--context", type=int, default=None, help="the server's context in tokens, if it does not say")
    q.add_argument("--timeout", type=float, default=None, help="seconds to wait for the server's next words")
    q = s.add_parser("show", help="where answers are written, and whether a key is kept")
    q.add_argument("--json", action="store_true")
    q = s.add_parser("key", help="keep the server's API key in the OS keychain (read from standard input)")
    q.add_argument("--forget", action="store_true", help="delete the kept key")
    s.add_parser("test", help="reach the server now: the round-trip and the model")


def server(args: argparse.Namespace) -> int:
    return {"set": _set, "show": _show, "key": _key, "test": _test}[args.server_command](args)


def _set(args: argparse.Namespace) -> int:
    old = sc.load()
    if args.url.strip().lower() == "off":
        sc.save(replace(old, enabled=False))
        print("answers are written on this computer (the server's address is kept: docqa server set URL)")
        return EXIT_OK
    new = replace(old, url=args.url, enabled=True,
                  unencrypted=args.unencrypted or (old.unencrypted and old.url == args.url))
    if args.model is not None:
        new = replace(new, model=args.model)
    elif old.url != args.url:
        new = replace(new, model="")  # another server: its own first model
    if args.ca_file is not None:
        new = replace(new, ca_file=args.ca_file)
    if args.context is not None:
        new = replace(new, context_size=max(0, args.context))
    if args.timeout is not None:
        new = replace(new, timeout=max(1.0, args.timeout))
    try:
        new = new.checked()
    except sc.BadServer as err:
        print(f"error: {shown(str(err))}", file=sys.stderr)
        return EXIT_ERROR
    sc.save(new)
    print(f"answers: {describe(new)}")
    print("only the question and the quotes and passages picked for it are sent; test it: docqa server test")
    return EXIT_OK


def describe(config: sc.ServerConfig) -> str:
    """One line naming where answers are written, "unencrypted" where it applies."""
    if not config.active:
        return "this computer"
    plain = "" if config.encrypted or sc.is_loopback(config.host) else " (UNENCRYPTED: http://)"
    return f"{config.url}{plain}, model {config.model or 'the server first'}"


def _show(args: argparse.Namespace) -> int:
    config = sc.load()
    try:
        kept = sc.ApiKeys().get(config.url) is not None if config.url else False
    except KeyUnavailable:
        kept = True  # there is one, behind a passphrase not given now
    if args.json:
        print(json.dumps({**asdict(config), "api_key_kept": kept}, indent=1))
        return EXIT_OK
    print(f"answers: {describe(config)}")
    if config.url:
        print(f"server: {config.url}{'' if config.active else ' (not in use)'}")
        print(f"API key: {'kept' if kept else 'none'}")
    return EXIT_OK


def _key(args: argparse.Namespace) -> int:
    config = sc.load()
    if not config.url:
        print("error: set the server first: docqa server set URL", file=sys.stderr)
        return EXIT_ERROR
    keys = sc.ApiKeys()
    if args.forget:
        keys.forget(config.url)
        print(f"forgot the API key for {config.url}")
        return EXIT_OK
    key = (getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()).strip()
    if not key:
        print("error: no key given", file=sys.stderr)
        return EXIT_ERROR
    where = keys.set(config.url, key)
    print(f"API key kept {'in the OS keychain' if where == 'keychain' else 'behind your passphrase'}")
    return EXIT_OK


def _test(args: argparse.Namespace) -> int:
    from rag.ask.remote_http import RemoteError, probe

    config = sc.load()
    if not config.url:
        print("error: no server set: docqa server set URL", file=sys.stderr)
        return EXIT_ERROR
    try:
        result = probe(config, sc.ApiKeys().get(config.url))
    except (RemoteError, sc.BadServer) as err:
        print(f"error: {shown(str(err))}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{config.host}: {result.summary()}")
    if len(result.models) > 1:
        print(f"models: {', '.join(result.models)}")
    return EXIT_OK
