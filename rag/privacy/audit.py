"""The library's audit log: append-only, hash-chained, keyed (HIPAA 164.312(b) audit controls).

``audit.log`` holds one JSON line per event. Each line carries an HMAC-SHA256, keyed from
the library key, over its own content and the previous line's HMAC: a changed byte, a
removed line or two swapped lines break the chain, and nobody without the key can forge
a new one. The last entry's number and HMAC are also kept in the (encrypted) manifest, so
cutting lines off the end is caught too. Entries carry ids, counts and keyed hashes,
never document text or file names; a question's text is kept only if the user opted in,
and then sealed with the library's file key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.store.sealed import SealedError, Sealer

AUDIT_FILE = "audit.log"
GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    n: int
    at: float
    event: str
    data: dict[str, Any]
    mac: str

    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.at))


@dataclass
class Verdict:
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _body(n: int, at: float, event: str, data: dict[str, Any]) -> bytes:
    return json.dumps({"n": n, "at": at, "event": event, "data": data}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True).encode()


class AuditLog:
    """Appends to and checks one library's log. ``anchor_get``/``anchor_set`` keep the
    head ("n:mac") somewhere an attacker cannot rewrite (the encrypted manifest)."""

    def __init__(self, path: Path, mac_key: bytes, sealer: Sealer, *,
                 anchor_get: Callable[[], str | None] | None = None,
                 anchor_set: Callable[[str], None] | None = None) -> None:
        self.path = path
        self._key = mac_key
        self._sealer = sealer
        self._anchor_get = anchor_get
        self._anchor_set = anchor_set
        self._lock = threading.Lock()

    def _mac(self, prev: str, body: bytes) -> str:
        return hmac.new(self._key, prev.encode() + b"\n" + body, hashlib.sha256).hexdigest()

    def question_hash(self, question: str) -> str:
        """A keyed hash of the question: the same question gives the same hash in this
        library (so repeats show), but it cannot be guessed back without the key."""
        norm = " ".join(question.casefold().split())
        # surrogatepass: a question decoded from bytes that were not UTF-8 (argv) still hashes.
        return hmac.new(self._key, b"question\n" + norm.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]

    def seal_text(self, text: str) -> str:
        return base64.b64encode(self._sealer.seal(text.encode("utf-8", "surrogatepass"), "audit")).decode()

    def open_text(self, sealed: str) -> str:
        try:
            return self._sealer.open(base64.b64decode(sealed), "audit").decode("utf-8", "surrogatepass")
        except (SealedError, ValueError):
            return "(unreadable)"

    # -- writing ---------------------------------------------------------------------------
    def record(self, event: str, **data: Any) -> None:
        """Append one entry, flushed to disk before returning."""
        with self._lock, open(self.path, "a+b") as fh:
            _lock_file(fh)
            n, prev = _last(fh)
            at = round(time.time(), 3)
            body = _body(n + 1, at, event, data)
            mac = self._mac(prev, body)
            line = json.dumps({"n": n + 1, "at": at, "event": event, "data": data, "mac": mac},
                              sort_keys=True, ensure_ascii=True)
            fh.seek(0, os.SEEK_END)
            fh.write(line.encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        if self._anchor_set is not None:
            self._anchor_set(f"{n + 1}:{mac}")

    # -- reading ---------------------------------------------------------------------------
    def verify(self) -> Verdict:
        """Every entry, and each place where the chain is broken."""
        out = Verdict()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raw = b""
        prev, expect = GENESIS, 1
        macs: dict[int, str] = {}
        for i, line in enumerate(raw.splitlines(), 1):
            try:
                d = json.loads(line)
                e = Entry(int(d["n"]), float(d["at"]), str(d["event"]), dict(d["data"]), str(d["mac"]))
            except (ValueError, KeyError, TypeError):
                out.problems.append(f"line {i}: not a readable entry (edited or damaged)")
                prev, expect = "?", expect + 1
                continue
            if e.n != expect:
                out.problems.append(f"line {i}: entry {e.n} where {expect} was expected "
                                    "(entries removed or reordered)")
            elif not hmac.compare_digest(self._mac(prev, _body(e.n, e.at, e.event, e.data)), e.mac):
                out.problems.append(f"line {i}: entry {e.n} does not match its seal "
                                    "(edited, or an entry before it was changed or removed)")
            out.entries.append(e)
            macs[e.n] = e.mac
            prev, expect = e.mac, e.n + 1
        head = self._anchor_get() if self._anchor_get is not None else None
        if head:
            n, _, mac = head.partition(":")
            if macs.get(int(n)) != mac:
                out.problems.append(f"entry {n} (the last one the library remembers) is missing "
                                    "or changed: entries were cut off or replaced")
        return out


def _last(fh: Any) -> tuple[int, str]:
    """(number, HMAC) of the file's last entry, or (0, GENESIS) when it is empty."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    back = min(size, 65536)
    fh.seek(size - back)
    lines = [ln for ln in fh.read(back).splitlines() if ln.strip()]
    if not lines:
        return 0, GENESIS
    try:
        d = json.loads(lines[-1])
        return int(d["n"]), str(d["mac"])
    except (ValueError, KeyError, TypeError):
        # A damaged last line: chain on past it; verify() reports the damage.
        return size, hashlib.sha256(lines[-1]).hexdigest()


def _lock_file(fh: Any) -> None:
    """One writer at a time across processes (the CLI and the app may share a library)."""
    try:
        import fcntl
    except ImportError:  # Windows: the in-process lock is what we have
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file is closed
