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
It is a plain ``python -m rag.ingest.parsing.isolated`` child speaking length-prefixed pickle
frames on its stdin and stdout, not a ``multiprocessing`` process: spawn would
re-import the caller's ``__main__``, which breaks any script that embeds the engine
without an ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from rag.cancel import Cancelled, CancelToken
from rag.frozen import NO_WINDOW, child_command
from rag.ingest.parsing import ocr as ocr_budget
from rag.ingest.parsing.registry import ParserRegistry
from rag.protocols import ParseError
from rag.types import ParsedDocument

BASE_TIMEOUT_S = 120.0  # a 500-page contract takes a few seconds; two minutes is generous
TIMEOUT_PER_MB_S = 4.0  # big scans and slides get more time
MEMORY_LIMIT_BYTES = 6 * 1024**3  # a decompression bomb fails here, not in the user's swap
POLL_S = 0.05  # how often the parent looks at the cancel token while it waits
_HEADER = struct.Struct("!Q")
_EOF = object()


def _write_frame(out: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)) + data)
    out.flush()


def _read_frame(inp: IO[bytes]) -> object:
    """The next object, or ``_EOF`` when the other side has gone."""
    head = inp.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return _EOF
    size = _HEADER.unpack(head)[0]
    data = inp.read(size)
    if len(data) < size:
        return _EOF
    return pickle.loads(data)  # noqa: S301 (our own child or parent, over a private pipe)


def _cap_memory() -> None:
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT_BYTES, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: run without the cap
        pass


def _exit_with_parent(parent: int) -> None:
    """A parse stuck in C code never reads stdin's EOF: leave when the app is gone."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker_main() -> None:
    """The child: a registry first, then paths in, ``("ok", doc)`` or ``("error", reason)`` out."""
    # The protocol owns the real stdout; anything a parser prints goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    inp = sys.stdin.buffer
    _cap_memory()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    registry = _read_frame(inp)
    if not isinstance(registry, ParserRegistry):
        return
    while True:
        raw = _read_frame(inp)
        if raw is _EOF or raw is None:
            return
        path, ocr = raw if isinstance(raw, tuple) else (raw, True)
        try:  # the registry turns every parser failure, MemoryError included, into a ParseError
            reply: tuple[str, object] = ("ok", registry.parse(Path(str(path)), ocr=bool(ocr)))
        except ParseError as err:
            reply = ("error", str(err))
        try:
            _write_frame(out, reply)
        except MemoryError:
            _write_frame(out, ("error", "the file is too large to read in memory"))


def timeout_for(path: Path) -> float:
    try:
        mb = path.stat().st_size / (1024 * 1024)
    except OSError:
        mb = 0.0
    return BASE_TIMEOUT_S + TIMEOUT_PER_MB_S * mb


class _Worker:
    """One child process and the thread that reads its replies into a queue."""

    def __init__(self, registry: ParserRegistry, temp_dir: Path | None = None) -> None:
        cmd, extra = child_command("parse-worker")  # an installed app has no `python -m`
        env = dict(os.environ, **extra)
        # The child sees the modules the parent sees (a test's parsers, an embedding app's).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        if temp_dir is not None:
            # A parser's scratch files (unpacked attachments, converted pages) stay in the
            # library folder, not in the shared /tmp; the library removes them.
            env.update(TMPDIR=str(temp_dir), TEMP=str(temp_dir), TMP=str(temp_dir))
        self.proc = subprocess.Popen(
            cmd,
            creationflags=NO_WINDOW,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.replies: queue.Queue[object] = queue.Queue()
        stdout = self.proc.stdout
        threading.Thread(target=self._read, args=(stdout,), name="docqa-parser-reader", daemon=True).start()
        _write_frame(self.stdin, registry)

    def _read(self, stdout: IO[bytes]) -> None:
        while True:
            try:
                item = _read_frame(stdout)
            except Exception:  # noqa: BLE001 (a torn frame: the child is gone or broken)
                item = _EOF
            self.replies.put(item)
            if item is _EOF:
                return

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, kill: bool) -> None:
        if not kill:
            try:
                _write_frame(self.stdin, None)
            except (BrokenPipeError, OSError):
                kill = True
        try:
            self.stdin.close()
        except OSError:
            pass
        if kill:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class IsolatedParser:
    """Parses files in a worker process; same contract as ``ParserRegistry.parse`` plus
    ``cancel`` (stops a parse in progress) and a deadline per file."""

    def __init__(self, registry: ParserRegistry | None = None, timeout: float | None = None,
                 temp_dir: Path | None = None) -> None:
        self._registry = registry or ParserRegistry()
        self._timeout = timeout
        self._temp_dir = temp_dir
        self._worker: _Worker | None = None

    def _start(self) -> _Worker:
        if self._worker is not None and self._worker.alive():
            return self._worker
        self._stop(kill=True)
        self._worker = _Worker(self._registry, self._temp_dir)
        return self._worker

    def parse(self, path: Path, cancel: CancelToken | None = None, ocr: bool = True) -> ParsedDocument:
        """``ocr=False``: see :meth:`ParserRegistry.parse`; with OCR the deadline grows by
        the OCR budget, which the worker keeps to itself (it returns what it read in time)."""
        self._registry.check(path)  # the cheap refusals need no worker
        worker = self._start()
        limit = self._timeout if self._timeout is not None else timeout_for(path)
        if ocr and self._timeout is None and path.suffix.lower().lstrip(".") in ocr_budget.KINDS:
            limit += ocr_budget.BUDGET_S
        deadline = time.monotonic() + limit
        request = (str(path), ocr)
        try:
            _write_frame(worker.stdin, request)
        except (BrokenPipeError, OSError):  # it died since the last file: one more try
            self._stop(kill=True)
            worker = self._start()
            _write_frame(worker.stdin, request)
        while True:
            if cancel is not None and cancel.is_set:
                self._stop(kill=True)  # a parse cannot be interrupted any other way
                raise Cancelled()
            try:
                reply = worker.replies.get(timeout=POLL_S)
            except queue.Empty:
                if time.monotonic() > deadline:
                    self._stop(kill=True)
                    raise ParseError(f"reading the file took longer than {int(limit)} s; it may be damaged") from None
                continue
            if reply is _EOF:
                self._stop(kill=True)
                code = worker.proc.returncode
                shown = f" (exit code {code})" if code else ""
                raise ParseError(f"the reader crashed on this file{shown}; it is probably damaged")
            assert isinstance(reply, tuple)
            status, value = reply
            if status == "ok" and isinstance(value, ParsedDocument):
                return value
            raise ParseError(str(value))

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.alive()

    def _stop(self, kill: bool) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(kill)

    def close(self) -> None:
        self._stop(kill=False)

    def abort(self) -> None:
        """Stop the worker now, mid-parse or not: after Cancel nobody waits for it (a
        polite stop can take seconds while it finishes a file)."""
        self._stop(kill=True)

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    _worker_main()
