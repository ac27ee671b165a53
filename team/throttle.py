"""Slowing down password guessing: failed sign-ins counted per user name and per client
address, and further attempts refused for a while once there are too many.

After ``name_failures`` failures for one name (or ``address_failures`` from one address:
an office behind one router shares it, so it may fail more), the next attempt is refused
without checking the password (429, with Retry-After) for ``first_lock``, doubling with
every further failure up to ``longest_lock``. A success clears its name's count, not its
address's: one account the guesser owns must not wash out the guesses at another's. A
count is forgotten ``forget`` after its last failure once its lock has ended.

Attempts in progress count as failures until they end, so a burst of concurrent
guesses cannot slip past the limit before the first of them fails. The counts live in the
server's memory (a restart clears them) and at most ``max_keys`` are kept, oldest dropped.
The client address is the connection's: behind a reverse proxy that is the proxy's, and
only the name count then tells guessers apart.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LoginPolicy:
    name_failures: int = 5  # failures for one name before it is locked
    address_failures: int = 20  # failures from one address before it is locked
    first_lock: float = 30.0  # seconds; doubles with each failure after the limit
    longest_lock: float = 15 * 60.0
    forget: float = 15 * 60.0  # a quiet count is dropped this long after its lock ended
    max_keys: int = 10_000  # names and addresses remembered (memory bound)


@dataclass
class _Count:
    failures: int = 0
    pending: int = 0  # attempts under way: counted as failures until they end
    last: float = 0.0  # time of the last failure
    locked_until: float = 0.0


class Refused(Exception):
    """Too many failed sign-ins: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, by: str) -> None:
        super().__init__(f"too many failed sign-ins ({by}): try again in {math.ceil(retry_after)} s")
        self.retry_after = max(1, math.ceil(retry_after))
        self.by = by  # "name" or "address"


class LoginThrottle:
    """Failed sign-ins by name and by address (one per server: kept in memory)."""

    def __init__(self, policy: LoginPolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or LoginPolicy()
        self._clock = clock
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str) -> tuple[tuple[str, int], tuple[str, int]]:
        p = self.policy
        return (f"name:{name.lower()}", p.name_failures), (f"address:{address}", p.address_failures)

    def begin(self, name: str, address: str) -> None:
        """Before checking a password: raises :class:`Refused` while the name or the address is
        locked, or while the attempts under way would reach the limit; otherwise counts this
        attempt as under way (end it with :meth:`failed` or :meth:`succeeded`)."""
        now = self._clock()
        with self._lock:
            for key, limit in self._keys(name, address):
                c = self._get(key, now)
                if c is None:
                    continue
                if c.locked_until > now:
                    self._counts.move_to_end(key)  # a locked key is the last to be dropped
                    raise Refused(c.locked_until - now, key.split(":", 1)[0])
                if c.failures + c.pending >= limit and c.pending:
                    # Others are trying this name right now and would reach the limit.
                    raise Refused(1.0, key.split(":", 1)[0])
            for key, _limit in self._keys(name, address):
                self._put(key).pending += 1

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        p = self.policy
        with self._lock:
            for key, limit in self._keys(name, address):
                c = self._put(key)
                c.pending = max(0, c.pending - 1)
                c.failures += 1
                c.last = now
                if c.failures >= limit:
                    lock = min(p.first_lock * 2 ** (c.failures - limit), p.longest_lock)
                    c.locked_until = now + lock

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            (name_key, _), (addr_key, _) = self._keys(name, address)
            self._counts.pop(name_key, None)
            c = self._counts.get(addr_key)
            if c is not None:
                c.pending = max(0, c.pending - 1)

    def abandoned(self, name: str, address: str) -> None:
        """An attempt that ended without a verdict (the database failed): no longer under way."""
        with self._lock:
            for key, _limit in self._keys(name, address):
                c = self._counts.get(key)
                if c is not None:
                    c.pending = max(0, c.pending - 1)

    def _get(self, key: str, now: float) -> _Count | None:
        c = self._counts.get(key)
        if c is not None and not c.pending and now > max(c.locked_until, c.last) + self.policy.forget:
            del self._counts[key]
            return None
        return c

    def _put(self, key: str) -> _Count:
        c = self._counts.get(key)
        if c is None:
            c = self._counts[key] = _Count()
            while len(self._counts) > self.policy.max_keys:
                self._counts.popitem(last=False)
        else:
            self._counts.move_to_end(key)
        return c
