"""The egress guard: refuse, in this process, any connection to anything but this computer
and, when the user configured one, the organisation's answer server.

A Python audit hook (PEP 578) sees every ``socket.connect``, ``sendto``, ``sendmsg`` and
name lookup before it happens; one aimed anywhere but loopback (or a local Unix socket)
is refused with :class:`EgressBlocked`, and remembered so that ``docqa privacy`` and the
app's Privacy page can show it and the library's audit log can record it. Audit hooks
cannot be removed once installed: nothing later in the process can switch it off.

:func:`allow` admits exactly one server: the lookup of its name and connections to the
addresses that name resolved to, on its one port. Any other host, or that host on another
port, stays refused. The allowance guards against libraries that phone home, not against
code in this process that means harm (which could call :func:`allow` itself).

Native code (llama.cpp, Chroma's Rust core) does not pass through Python's socket
module; the proof for those is the strace test in CI (tests/rag/test_privacy_e2e.py).
"""

from __future__ import annotations

import ipaddress
import socket
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


@dataclass(frozen=True)
class Allowed:
    """The one server connections may go to: its name, port and resolved addresses."""

    host: str
    port: int
    addresses: frozenset[str]

    def describe(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        extra = sorted(self.addresses - {self.host})
        return f"{shown}:{self.port}" + (f" ({', '.join(extra)})" if extra else "")


class _Guard:
    def __init__(self) -> None:
        self.installed = False
        self.allowed: Allowed | None = None
        self.team: Allowed | None = None  # the team server (rag/team/client.py), besides the answer server
        self.attempts: list[Attempt] = []
        self.listeners: list[Callable[[Attempt], None]] = []
        self._lock = threading.Lock()
        self._busy = threading.local()

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _GUARDED:
            return
        target = _target(event, args)
        if target is None or _admitted(self.allowed, event, args) or _admitted(self.team, event, args):
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


def _norm(host: object) -> str:
    """A host as compared: lower case, no trailing dot, IPv6 compressed, no zone."""
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    h = str(host).strip().lower().rstrip(".")
    try:
        return ipaddress.ip_address(h.split("%")[0]).compressed
    except ValueError:
        return h


def _admitted(allowed: Allowed | None, event: str, args: tuple[Any, ...]) -> bool:
    """Whether the event goes to the allowed server: its name looked up, or one of its
    addresses connected to, on its port."""
    if allowed is None or not args:
        return False
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        addr = args[1] if len(args) > 1 else None
        return (isinstance(addr, tuple) and len(addr) > 1 and _norm(addr[0]) in allowed.addresses
                and addr[1] == allowed.port)
    if _norm(args[0]) != allowed.host:
        return False
    port = args[1] if event == "socket.getaddrinfo" and len(args) > 1 else None
    return port is None or str(port) == str(allowed.port)


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


def allow(host: str, port: int) -> Allowed:
    """Admit connections to ``host`` on ``port`` (and nothing else off this computer),
    replacing any server admitted before. The name is resolved now; call again to follow
    a change of address. Raises OSError when the name cannot be resolved."""
    name = _norm(host)
    with _GUARD._lock:
        # The lookup itself is an audited event: admit the name first.
        _GUARD.allowed = Allowed(name, int(port), frozenset({name}))
    try:
        infos = socket.getaddrinfo(name, int(port), type=socket.SOCK_STREAM)
    except OSError:
        disallow()
        raise
    addresses = frozenset({name} | {_norm(info[4][0]) for info in infos})
    allowed = Allowed(name, int(port), addresses)
    with _GUARD._lock:
        _GUARD.allowed = allowed
    return allowed


def allow_team(host: str, port: int) -> Allowed:
    """Admit the team server (docqa connect), alongside the answer server if one is
    admitted: the two are separate allowances, each exactly one host and port, so a
    change of answer server never opens or closes the way to the team server."""
    name = _norm(host)
    with _GUARD._lock:
        _GUARD.team = Allowed(name, int(port), frozenset({name}))
    try:
        infos = socket.getaddrinfo(name, int(port), type=socket.SOCK_STREAM)
    except OSError:
        disallow_team()
        raise
    allowed = Allowed(name, int(port), frozenset({name} | {_norm(info[4][0]) for info in infos}))
    with _GUARD._lock:
        _GUARD.team = allowed
    return allowed


def disallow_team() -> None:
    with _GUARD._lock:
        _GUARD.team = None


def team_allowed() -> Allowed | None:
    with _GUARD._lock:
        return _GUARD.team


def disallow(host: str | None = None) -> None:
    """Back to this computer only (with ``host``: only if that is the server admitted)."""
    with _GUARD._lock:
        if host is None or (_GUARD.allowed is not None and _GUARD.allowed.host == _norm(host)):
            _GUARD.allowed = None


def restore(previous: Allowed | None) -> None:
    """Admit again what :func:`allowed` returned earlier (after testing another server)."""
    with _GUARD._lock:
        _GUARD.allowed = previous


def allowed() -> Allowed | None:
    """The server connections may go to in this process, if any."""
    with _GUARD._lock:
        return _GUARD.allowed


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
