"""Accounts and sign-in tokens.

Passwords are hashed with Argon2id (argon2-cffi, MIT; its default parameters follow RFC
9106's second recommendation). A token is 32 random bytes the client keeps; the server
stores only its SHA-256, so a copy of the table signs no one in. A token ends at its
expiry whatever the use, and earlier when left unused for the idle timeout (an idle
logout: a laptop left open in a meeting room stops answering).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # Argon2id
# Checked against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash(secrets.token_hex(16))

MIN_PASSWORD = 12
_FRESH = timedelta(seconds=30)  # a token used this recently is not marked used again


@dataclass(frozen=True)
class User:
    id: int
    name: str
    auditor: bool = False


@dataclass(frozen=True)
class TokenPolicy:
    lifetime: timedelta = timedelta(hours=12)  # a working day, then sign in again
    idle: timedelta = timedelta(minutes=30)


class BadPassword(ValueError):
    """A password too weak to set; the message says why in one line."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise BadPassword(f"a password needs at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def add_user(db: Any, name: str, password: str, auditor: bool = False) -> int:
    rows = db.run("INSERT INTO team_users (name, password_hash, auditor) VALUES (:n, :h, :a) RETURNING id",
                  n=name, h=hash_password(password), a=auditor)
    return int(rows[0][0])


def set_password(db: Any, name: str, password: str) -> bool:
    db.run("UPDATE team_users SET password_hash = :h WHERE name = :n", h=hash_password(password), n=name)
    changed = bool(db.row_count == 1)
    if changed:  # a new password ends every session of the old one
        db.run("DELETE FROM team_tokens WHERE user_id = (SELECT id FROM team_users WHERE name = :n)", n=name)
    return changed


def check_password(db: Any, name: str, password: str) -> User | None:
    """The user, if ``password`` is theirs and the account is enabled."""
    rows = db.run("SELECT id, password_hash, auditor, disabled FROM team_users WHERE name = :n", n=name)
    row = rows[0] if rows else None
    stored = row[1] if row else _DUMMY
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row[3]:
        return None
    if _HASHER.check_needs_rehash(stored):
        db.run("UPDATE team_users SET password_hash = :h WHERE id = :i", h=_HASHER.hash(password), i=row[0])
    return User(int(row[0]), name, bool(row[2]))


def issue_token(db: Any, user: User, policy: TokenPolicy, now: datetime | None = None) -> tuple[str, datetime]:
    """A new token for ``user`` and when it expires at the latest."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    expires = now + policy.lifetime
    db.run("INSERT INTO team_tokens (token_hash, user_id, created_at, expires_at, last_used) "
           "VALUES (:h, :u, :now, :e, :now)", h=_token_hash(token), u=user.id, now=now, e=expires)
    return token, expires


def resolve_token(db: Any, token: str, policy: TokenPolicy, now: datetime | None = None) -> User | None:
    """The user a token belongs to, if it is neither expired nor idle too long; its idle
    clock restarts. An expired or idle token is deleted: it never works again."""
    now = now or datetime.now(UTC)
    h = _token_hash(token)
    rows = db.run("SELECT t.expires_at, t.last_used, u.id, u.name, u.auditor, u.disabled FROM team_tokens t "
                  "JOIN team_users u ON u.id = t.user_id WHERE t.token_hash = :h", h=h)
    if not rows:
        return None
    expires, last_used, uid, name, auditor, disabled = rows[0]
    if disabled or now >= expires or now - last_used >= policy.idle:
        db.run("DELETE FROM team_tokens WHERE token_hash = :h", h=h)
        return None
    # The idle clock restarts, unless it did a moment ago (the write costs every request a
    # row lock and a WAL record): an idle logout comes at most a fortieth of the idle time
    # (and 30 s) early.
    if now - last_used >= min(policy.idle / 40, _FRESH):
        db.run("UPDATE team_tokens SET last_used = :now WHERE token_hash = :h", now=now, h=h)
    return User(int(uid), name, bool(auditor))


def revoke_token(db: Any, token: str) -> None:
    db.run("DELETE FROM team_tokens WHERE token_hash = :h", h=_token_hash(token))
