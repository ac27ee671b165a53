"""The manifest's database file, encrypted whole with SQLCipher (AES-256, every page
authenticated with an HMAC), and the crash-safe migration of a plaintext one.

SQLCipher is SQLite with a codec, so FTS5, WAL and the rest work unchanged; its WAL and
temporary pages are encrypted too. The page key is derived from the library key and
given raw, so SQLCipher's own (slow) passphrase stretching is skipped: the library key
is already random or scrypt-stretched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.store.atomic import fsync_dir
from rag.store.keys import WrongKey

SQLITE_HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")

# Called with a short description of the step and a fraction done (0..1).
MigrationProgress = Callable[[str, float], None]


def _dbapi() -> Any:
    from sqlcipher3 import dbapi2

    return dbapi2


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception classes a manifest connection raises (SQLCipher's, not sqlite3's)."""
    import sqlite3

    return (_dbapi().Error, sqlite3.Error)


def is_plaintext(path: Path) -> bool:
    """Whether ``path`` is an unencrypted SQLite file (a library from before encryption)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def _key_pragma(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def is_damage(err: BaseException) -> bool:
    """Whether a database error says the file is damaged (a page that fails its HMAC reads
    as "not a database" on page 1 and as "malformed" elsewhere), not busy or refused."""
    code = getattr(err, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_dbapi().SQLITE_CORRUPT, _dbapi().SQLITE_NOTADB)
    text = str(err).lower()
    return "malformed" in text or "not a database" in text


def connect(path: Path, key: bytes, read_only: bool = False) -> Any:
    """An open, keyed connection to the encrypted database at ``path`` (created if new).

    Raises :class:`rag.store.keys.WrongKey` when the file does not open with ``key``.
    ``read_only``: open without writing anything, not even SQLite's side files. A WAL
    database needs its ``-shm`` file even to be read (``mode=ro`` would make one, left
    read-only behind it), so it is opened ``immutable`` (no locks, no side files): after
    a clean close there is no WAL, and this account cannot write here anyway. Only a
    WAL left with writes in it is read through ``mode=ro``.
    """
    if not read_only:
        return _keyed(_dbapi().connect(str(path), check_same_thread=False, isolation_level=None), path, key)
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:  # writes not yet folded in: only mode=ro reads them
        try:
            return _keyed(_dbapi().connect(f"{uri}?mode=ro", uri=True, check_same_thread=False,
                                           isolation_level=None), path, key)
        except _dbapi().DatabaseError as err:
            if is_damage(err):
                raise
    return _keyed(_dbapi().connect(f"{uri}?immutable=1", uri=True, check_same_thread=False,
                                   isolation_level=None), path, key)


def _keyed(db: Any, path: Path, key: bytes) -> Any:
    try:
        # SQLCipher logs a failed page decryption to stderr; the user gets our one line.
        db.execute("PRAGMA cipher_log_level = NONE")
        db.execute(_key_pragma(key))
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except _dbapi().DatabaseError as err:
        db.close()
        if getattr(err, "sqlite_errorcode", None) != _dbapi().SQLITE_NOTADB:
            raise
        raise WrongKey(f"{path.name} does not open with this library's key: it is damaged or "
                       "belongs to another library; nothing was changed") from None
    # Sorts and temporary indexes stay in memory: nothing about the content reaches /tmp.
    db.execute("PRAGMA temp_store = MEMORY")
    return db


def encrypt_in_place(path: Path, key: bytes, progress: MigrationProgress | None = None) -> None:
    """Turn the plaintext database at ``path`` into an encrypted one, crash-safe.

    The encrypted copy is written beside it and flushed to disk, then renamed over the
    original: a kill at any moment leaves either the whole plaintext library (migrated
    again on the next open) or the whole encrypted one.
    """
    report = progress or (lambda step, frac: None)
    aside = path.with_name(path.name + ".encrypting")
    for p in (aside, *(aside.with_name(aside.name + s) for s in SIDE_FILES)):
        p.unlink(missing_ok=True)  # a copy left by an interrupted migration
    report("encrypting the library", 0.0)
    db = _dbapi().connect(str(path), isolation_level=None)
    try:
        # Fold the WAL into the main file and leave WAL mode, so that no plaintext side
        # file outlives the rename below.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode = DELETE")
        pages = int(db.execute("PRAGMA page_count").fetchone()[0]) or 1
        steps = [0]

        def tick() -> int:
            steps[0] += 1
            report("encrypting the library", min(0.95, steps[0] * 1000 / (pages * 400)))
            return 0

        db.set_progress_handler(tick, 1000)
        db.execute(f"ATTACH DATABASE ? AS enc KEY \"x'{key.hex()}'\"", (str(aside),))
        db.execute("SELECT sqlcipher_export('enc')")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        db.execute(f"PRAGMA enc.user_version = {version}")
        db.set_progress_handler(None, 0)
        db.execute("DETACH DATABASE enc")
    finally:
        db.close()
    with open(aside, "rb+") as fh:
        os.fsync(fh.fileno())
    for s in SIDE_FILES:
        path.with_name(path.name + s).unlink(missing_ok=True)
    os.replace(aside, path)
    fsync_dir(path.parent)
    report("encrypting the library", 1.0)


def open_database(path: Path, key: bytes | None, progress: MigrationProgress | None = None,
                  read_only: bool = False) -> Any:
    """The manifest's connection: encrypted with ``key``, migrating a
    plaintext file first. Without a key, plain SQLite (scratch databases, tests).
    ``read_only`` (a library this account may not write): never migrated nor written."""
    if key is None:
        db = _dbapi().connect(str(path), check_same_thread=False, isolation_level=None)
    else:
        if is_plaintext(path) and not read_only:
            encrypt_in_place(path, key, progress)
        db = connect(path, key, read_only)
    return db
