"""``docqa ingest`` and ``docqa sync``: the long writes, shown with a progress bar on the
terminal and stopped by Ctrl+C, keeping what was finished."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, TypeVar

from rag.cancel import CancelToken
from rag.cli.common import EXIT_CANCELLED, EXIT_OK, EXIT_PARTIAL
from rag.cli.common import open_library as _open
from rag.cli.text import shown
from rag.ingest.progress_eta import Eta
from rag.types import Outcome, Progress

if TYPE_CHECKING:
    from rag.library import Library

T = TypeVar("T")


class _Bar:
    """A one-line progress bar on a terminal; one line per finished file otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.start = time.monotonic()
        self.last_done = -1
        self.eta = Eta()

    def __call__(self, e: Progress) -> None:
        if e.stage == "waiting":  # another docqa holds the library: say why nothing moves
            self.out.write(f"{e.message}\n")
            self.out.flush()
            return
        self.eta.update(e)
        left = self.eta.text()
        if self.tty:
            width = 28
            frac = e.done / e.total if e.total else 1.0
            bar = "#" * int(width * frac) + "-" * (width - int(width * frac))
            name = shown(e.current)[-40:]
            eta = f", {left}" if left else ""
            self.out.write(f"\r[{bar}] {e.done}/{e.total} files, {e.chunks} chunks{eta}  {name:<40}")
            self.out.flush()
        elif e.done != self.last_done and e.stage != "scan":
            self.out.write(f"{e.done}/{e.total} {shown(e.current)}" + (f" ({left})" if left else "") + "\n")
        self.last_done = e.done

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")


def _with_bar(args: argparse.Namespace, work: Callable[[Library, _Bar, CancelToken], T], cancelled: str) -> T | None:
    """Run ``work`` on the library with a progress bar; Ctrl+C cancels it (None, after
    saying ``cancelled``) and keeps what was finished."""
    lib = _open(args)
    cancel = CancelToken()
    bar = _Bar(sys.stderr)
    try:
        result = work(lib, bar, cancel)
    except KeyboardInterrupt:
        cancel.set()
        bar.close()
        print(cancelled, file=sys.stderr)
        return None
    finally:
        lib.close()
    bar.close()
    return result


def ingest(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    done = _with_bar(args, lambda lib, bar, cancel: (lib.ingest(args.paths, progress=bar, cancel=cancel),
                                                     getattr(lib.embedder, "hardware", None)),
                     "cancelled; the library is unchanged for files not finished")
    if done is None:
        return EXIT_CANCELLED
    report, hw = done
    secs = time.monotonic() - t0
    if args.json:
        print(json.dumps([{"file": r.name, "outcome": r.outcome.value, "reason": r.reason,
                           "pages": r.pages, "chunks": r.chunks, "note": r.note} for r in report.results],
                         indent=1))
    else:
        counts = ", ".join(f"{o.value} {report.count(o)}" for o in Outcome if report.count(o))
        print(f"{counts} ({secs:.1f} s)")
        passages = sum(r.chunks for r in report.results)
        if hw is not None and passages:
            print(f"embedded {passages} passages on {hw} ({passages / secs:.0f}/s)")
        for r in report.failed:
            print(f"  FAILED  {shown(f'{r.name}: {r.reason}')}")
        for r in report.results:
            if r.note:  # indexed, but some of it could not be read (scanned pages, cut rows)
                print(f"  NOTE    {shown(f'{r.name}: {r.note}')}")
    if report.cancelled:
        return EXIT_CANCELLED
    return EXIT_PARTIAL if report.failed else EXIT_OK


def sync(args: argparse.Namespace) -> int:
    report = _with_bar(args, lambda lib, bar, cancel: lib.sync(args.paths or None, progress=bar, cancel=cancel),
                       "cancelled; what was synced so far is kept")
    if report is None:
        return EXIT_CANCELLED
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        print(f"{shown(report.summary())} ({report.seconds:.1f} s)")
        for r in report.failed:
            print(f"  FAILED  {shown(f'{r.name}: {r.reason}')}")
    if report.cancelled:
        return EXIT_CANCELLED
    return EXIT_PARTIAL if report.failed else EXIT_OK
