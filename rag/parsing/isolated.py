"""Parsing in a child process, so a hostile file fails alone.

The PDF and office parsers are C libraries (pdfium) and large Python stacks fed with
files from anywhere. A crafted or damaged file can make one of them loop for ever,
eat all memory or crash the process outright. In the app's own process that would
freeze an ingest that Cancel cannot interrupt, or take the whole app (and the chat the
user was typing) down with it. Here the parser runs in a worker process: the parent
waits with a deadline, watching the cancel token; a worker that hangs is killed, one
that dies is replaced, and either way only that one file fails, with a reason.

The worker is started on the first file that needs parsing (unchanged files never
do), reused for the rest of the batch, and stopped by :meth:`IsolatedParser.close`.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from rag.cancel import Cancelled, CancelToken
from rag.parsing.registry import ParserRegistry
from rag.protocols import ParseError
from rag.types import ParsedDocument

BASE_TIMEOUT_S = 120.0  # a 500-page contract takes a few seconds; two minutes is generous
TIMEOUT_PER_MB_S = 4.0  # big scans and slides get more time
MEMORY_LIMIT_BYTES = 6 * 1024**3  # a decompression bomb fails here, not in the user's swap
POLL_S = 0.05  # how often the parent looks at the cancel token while it waits


def _worker(conn: multiprocessing.connection.Connection, registry: ParserRegistry) -> None:
    """The child's loop: a path in, ``("ok", doc)`` or ``("error", reason)`` out."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT_BYTES, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: run without the cap
        pass
    while True:
        try:
            raw = conn.recv()
        except EOFError:
            return
        if raw is None:
            return
        try:
            conn.send(("ok", registry.parse(Path(raw))))
        except ParseError as err:
            conn.send(("error", str(err)))
        except MemoryError:
            conn.send(("error", "the file is too large to read in memory"))
        except Exception as err:  # noqa: BLE001 (the parent turns it into a reason)
            conn.send(("error", f"could not read the file: {type(err).__name__}: {err}"[:200]))


def timeout_for(path: Path) -> float:
    try:
        mb = path.stat().st_size / (1024 * 1024)
    except OSError:
        mb = 0.0
    return BASE_TIMEOUT_S + TIMEOUT_PER_MB_S * mb


class IsolatedParser:
    """Parses files in a worker process; same contract as ``ParserRegistry.parse`` plus
    ``cancel`` (stops a parse in progress) and a deadline per file."""

    def __init__(self, registry: ParserRegistry | None = None, timeout: float | None = None) -> None:
        self._registry = registry or ParserRegistry()
        self._timeout = timeout
        self._ctx = multiprocessing.get_context("spawn")  # no fork: the parent has threads
        self._proc: BaseProcess | None = None
        self._conn: multiprocessing.connection.Connection | None = None

    def _start(self) -> multiprocessing.connection.Connection:
        if self._proc is not None and self._proc.is_alive() and self._conn is not None:
            return self._conn
        self._stop(kill=True)
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker, args=(child, self._registry), name="docqa-parser", daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        return parent

    def parse(self, path: Path, cancel: CancelToken | None = None) -> ParsedDocument:
        self._registry.check(path)  # the cheap refusals need no worker
        conn = self._start()
        limit = self._timeout if self._timeout is not None else timeout_for(path)
        deadline = time.monotonic() + limit
        try:
            conn.send(str(path))
        except (BrokenPipeError, OSError):
            self._stop(kill=True)
            conn = self._start()
            conn.send(str(path))
        while True:
            if cancel is not None and cancel.is_set:
                self._stop(kill=True)  # a parse cannot be interrupted any other way
                raise Cancelled()
            try:
                ready = conn.poll(POLL_S)
            except (EOFError, OSError):
                ready = True
            if ready:
                try:
                    status, value = self._receive(conn)
                except EOFError:
                    self._stop(kill=True)
                    raise ParseError("the reader crashed on this file; it is probably damaged") from None
                if status == "ok":
                    assert isinstance(value, ParsedDocument)
                    return value
                raise ParseError(str(value))
            if self._proc is not None and not self._proc.is_alive():
                code = self._proc.exitcode
                self._stop(kill=True)
                raise ParseError(f"the reader crashed on this file (exit code {code}); it is probably damaged")
            if time.monotonic() > deadline:
                self._stop(kill=True)
                raise ParseError(f"reading the file took longer than {int(limit)} s; it may be damaged")

    @staticmethod
    def _receive(conn: multiprocessing.connection.Connection) -> tuple[str, Any]:
        message = conn.recv()
        status, value = message
        return str(status), value

    def _stop(self, kill: bool) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            if not kill:
                try:
                    conn.send(None)
                except (BrokenPipeError, OSError):
                    pass
            conn.close()
        if proc is not None:
            if kill:
                proc.kill()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def close(self) -> None:
        self._stop(kill=False)

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
