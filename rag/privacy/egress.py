"""The egress guard: refuse, in this process, any connection to anything but this computer.

A Python audit hook (PEP 578) sees every ``socket.connect``, ``sendto``, ``sendmsg`` and
name lookup before it happens; one aimed anywhere but loopback (or a local Unix socket)
is refused with :class:`EgressBlocked`, and remembered so that ``docqa privacy`` and the
app's Privacy page can show it and the library's audit log can record it. Audit hooks
cannot be removed once installed: nothing later in the process can switch it off.

Native code (llama.cpp, Chroma's Rust core) does not pass through Python's socket
module; the proof for those is the strace test in CI (tests/rag/test_privacy_e2e.py).
"""

from __future__ import annotations

import ipaddress
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
_GUARDED = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
            "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"}


class EgressBlocked(PermissionError):
    """A connection to another computer was refused: docqa works offline only."""


@dataclass(frozen=True)
class Attempt:
    at: float
    event: str
    target: str


class _Guard:
    def __init__(self) -> None:
        self.installed = False
        self.attempts: list[Attempt] = []
        self.listeners: list[Callable[[Attempt], None]] = []
        self._lock = threading.Lock()
        self._busy = threading.local()

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _GUARDED:
            return
        target = _target(event, args)
        if target is None:
            return
        attempt = Attempt(time.time(), event, target)
        with self._lock:
            self.attempts.append(attempt)
            listeners = list(self.listeners)
        if not getattr(self._busy, "on", False):
            self._busy.on = True  # a listener that itself touched a socket must not loop
            try:
                for listener in listeners:
                    try:
                        listener(attempt)
                    except Exception:  # noqa: BLE001 (recording must never unblock)
                        pass
            finally:
                self._busy.on = False
        raise EgressBlocked(f"docqa blocked a network connection to {target}: it works offline only "
                            "and never sends anything off this computer")


_GUARD = _Guard()


def _is_local_host(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    h = host.strip().lower().rstrip(".")
    if h in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(h.split("%")[0]).is_loopback
    except ValueError:
        return False


def _target(event: str, args: tuple[Any, ...]) -> str | None:
    """What the event reaches for, as "host:port", or None when it stays on this computer."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        addr = args[1] if len(args) > 1 else None
        if addr is None or isinstance(addr, str | bytes):
            return None  # a Unix socket path (or a connected socket's send): local
        if isinstance(addr, tuple) and addr:
            if _is_local_host(addr[0]):
                return None
            return f"{addr[0]}:{addr[1]}" if len(addr) > 1 else str(addr[0])
        return None
    host = args[0] if args else None
    if _is_local_host(host):
        return None
    port = args[1] if event == "socket.getaddrinfo" and len(args) > 1 and args[1] is not None else None
    return f"{host!s}:{port}" if port is not None else str(host)


def install() -> None:
    """Install the guard once per process (idempotent)."""
    with _GUARD._lock:
        if _GUARD.installed:
            return
        sys.addaudithook(_GUARD.hook)
        _GUARD.installed = True


def installed() -> bool:
    return _GUARD.installed


def attempts() -> list[Attempt]:
    """Every connection refused in this process, oldest first."""
    with _GUARD._lock:
        return list(_GUARD.attempts)


def subscribe(listener: Callable[[Attempt], None]) -> Callable[[], None]:
    """Call ``listener`` on each refused attempt from now on; returns the unsubscribe."""
    with _GUARD._lock:
        _GUARD.listeners.append(listener)

    def unsubscribe() -> None:
        with _GUARD._lock:
            if listener in _GUARD.listeners:
                _GUARD.listeners.remove(listener)

    return unsubscribe
