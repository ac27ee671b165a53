"""One writer per library, across processes: two app windows, or the app and the CLI.

An OS file lock on ``<library>/write.lock`` (``flock`` on POSIX, ``msvcrt.locking`` on
Windows). The OS drops it when its process dies, however it dies, so a crash or a kill
never leaves a stale lock to clear by hand. Readers take no lock: SQLite's WAL lets
them read while a writer writes.

``flock`` locks belong to an open file, not to a process, so two Library objects in one
process exclude each other too; the same object may re-enter (sync calls ingest).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.cancel import CancelToken

LOCK_FILE = "write.lock"
WAITING = "waiting for another docqa window updating this library…"
BUSY = "this library is being updated by another docqa window; try again when it has finished"
DEFAULT_TIMEOUT = 600.0  # seconds a writer waits for the other one before giving up


class LibraryBusy(RuntimeError):
    """Another process kept the library's write lock for longer than we would wait."""


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover (exercised on Windows only)
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class WriteLock:
    """The write lock of one library folder (re-entrant within its owner)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILE
        self._fd: int | None = None
        self._depth = 0
        self._owner: int | None = None
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    @property
    def depth(self) -> int:
        """How many times its owner has entered it (0: not held by this object)."""
        return self._depth if self._fd is not None else 0

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now (re-entering if this thread holds it)."""
        with self._mutex:
            if self._fd is not None:
                if self._owner != threading.get_ident():
                    return False
                self._depth += 1
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                os.close(fd)
                return False
            # Who holds it, for a person looking at the folder; the lock is the OS's.
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd, self._depth, self._owner = fd, 1, threading.get_ident()
            return True

    def acquire(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        on_wait: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
        poll: float = 0.1,
    ) -> None:
        """Wait for the lock. ``on_wait`` hears :data:`WAITING` once if another process
        holds it; after ``timeout`` seconds :class:`LibraryBusy` says so; a set ``cancel``
        token stops the wait (``Cancelled``)."""
        deadline = time.monotonic() + timeout
        told = False
        while not self.try_acquire():
            if cancel is not None:
                cancel.raise_if_set()
            if time.monotonic() >= deadline:
                raise LibraryBusy(BUSY)
            if not told and on_wait is not None:
                on_wait(WAITING)
                told = True
            time.sleep(poll)

    def release(self) -> None:
        with self._mutex:
            if self._fd is None:
                return
            self._depth -= 1
            if self._depth > 0:
                return
            fd, self._fd, self._owner = self._fd, None, None
            try:
                _unlock(fd)
            finally:
                os.close(fd)

    @contextmanager
    def hold(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        on_wait: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[None]:
        self.acquire(timeout, on_wait, cancel)
        try:
            yield
        finally:
            self.release()
