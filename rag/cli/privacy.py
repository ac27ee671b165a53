"""``docqa privacy``, ``docqa audit`` and ``docqa key``: what an auditor runs."""

from __future__ import annotations

import argparse
import json
import os
import sys

from rag.cli.common import EXIT_ERROR, EXIT_OK
from rag.cli.common import ask_passphrase as _ask_passphrase
from rag.cli.common import open_library as _open
from rag.cli.text import shown
from rag.paths import default_library


def privacy(args: argparse.Namespace) -> int:
    from rag.privacy.report import print_report, report

    r = report(args.library or default_library())
    if args.json:
        print(json.dumps(r.to_json(), indent=1))
    else:
        print_report(r)
    return EXIT_OK


def audit(args: argparse.Namespace) -> int:
    lib = _open(args)
    try:
        if args.audit_command == "questions":
            lib.set_logs_question_text(args.keep == "text")
            print("questions are kept in the audit log " +
                  ("as text (sealed with the library key)" if args.keep == "text" else "as a keyed hash only"))
            return EXIT_OK
        verdict = lib.audit.verify()
    finally:
        lib.close()
    if args.audit_command == "verify":
        for problem in verdict.problems:
            print(f"TAMPERED  {problem}")
        if verdict.ok:
            print(f"ok: {len(verdict.entries)} entries, chain intact")
            return EXIT_OK
        return EXIT_ERROR
    rows = []
    for e in verdict.entries:
        data = dict(e.data)
        if "text" in data:
            data["text"] = lib.audit.open_text(str(data["text"]))
        rows.append((e, data))
    if args.json:
        print(json.dumps([{"n": e.n, "at": e.at, "event": e.event, "data": d} for e, d in rows], indent=1))
    else:
        for e, d in rows:
            detail = "  ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in d.items())
            print(shown(f"{e.n:>5}  {e.when()}  {e.event:<18} {detail}"))
        if not verdict.ok:
            print(f"WARNING: the log was tampered with ({len(verdict.problems)} problems; "
                  "run 'docqa audit verify')", file=sys.stderr)
    return EXIT_OK if verdict.ok else EXIT_ERROR


def key(args: argparse.Namespace) -> int:
    new = ""
    if args.store == "passphrase":
        new = os.environ.get("DOCQA_NEW_PASSPHRASE") or _ask_passphrase(True) or ""
        if not new:
            print("error: no new passphrase given (type it, or set DOCQA_NEW_PASSPHRASE)", file=sys.stderr)
            return EXIT_ERROR
    lib = _open(args)
    try:
        lib.change_key(args.store, new)
    finally:
        lib.close()
    print(f"the library's key is now kept: {lib.key_source}")
    return EXIT_OK
