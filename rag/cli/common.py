"""What every ``docqa`` command shares: exit codes and opening the library (with the
passphrase asked at the terminal where there is no keychain)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rag.paths import default_library

if TYPE_CHECKING:
    from rag.library import Library
    from rag.team.matter import TeamMatter

EXIT_OK, EXIT_ERROR, EXIT_PARTIAL, EXIT_CANCELLED = 0, 1, 3, 130


def ask_passphrase(new: bool) -> str | None:
    """The passphrase, typed at the terminal (never echoed); None without a terminal."""
    import getpass

    if not sys.stdin.isatty():
        return None
    if new:
        print("Choose a passphrase for this library (this computer has no secure keychain, or you\n"
              "asked for one). Without it the library cannot be opened; nobody can recover it.", file=sys.stderr)
    pw = getpass.getpass("Passphrase: ")
    if new and pw and getpass.getpass("Again: ") != pw:
        print("the two passphrases differ", file=sys.stderr)
        return None
    return pw or None


def migration_progress(step: str, frac: float) -> None:
    end = "\n" if frac >= 1.0 else ""
    sys.stderr.write(f"\r{step}: {frac:.0%}{end}")
    sys.stderr.flush()


def open_library(args: argparse.Namespace) -> Library:
    from rag.library import Library  # lazy: keeps --help fast
    from rag.store.keys import KeySource

    # Told at once, not when the other docqa is done making the library: it may be ingesting.
    return Library(args.library or default_library(), keys=KeySource(ask_passphrase), migration=migration_progress,
                   lock_timeout=args.wait, on_wait=lambda message: print(message, file=sys.stderr, flush=True),
                   notes=lambda line: print(line, file=sys.stderr, flush=True))


def chosen_documents(lib: Library | TeamMatter, refs: list[str] | None) -> list[int] | None:
    """The ids of the documents ``--document`` names (None when it names none); one line
    on stderr and :class:`SystemExit` (exit 1) for a name that is not in the library."""
    if not refs:
        return None
    from rag.cli.text import shown

    ids: list[int] = []
    for ref in refs:
        found = lib.find(ref)  # a NUL or an unreadable path finds nothing, no exception
        if not found:
            print(f"error: not in the library: {shown(ref)}", file=sys.stderr)
            raise SystemExit(EXIT_ERROR)
        ids.extend(d.id for d in found if d.id not in ids)
    return ids
