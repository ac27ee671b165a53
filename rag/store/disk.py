"""The library folder on disk: who may read it, whether it can be written here, and what
to tell a person when its files are damaged.

A library holds a client's documents in all but name, so its files are private to the
account that made it (folders 0700, files 0600), whatever the umask the app was started
with. A library that cannot be written here (another account's, a read-only share, a
backup mounted read-only) is opened for reading only and says so when asked to change.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from rag.privacy.audit import AUDIT_FILE, AuditLog
from rag.store.database import MigrationProgress, database_errors, is_damage, is_plaintext
from rag.store.index_repair import CHROMA_FILE, INDEX_DIR
from rag.store.keys import KEY_FILE, KeyUnavailable
from rag.store.lock import LOCK_FILE
from rag.store.manifest import Manifest

PRIVATE_UMASK = 0o077
_GROUP_OTHER = 0o077


class LibraryError(RuntimeError):
    """A library that cannot be used as asked; its message is one line for a person."""


class LibraryReadOnly(LibraryError):
    """A change asked of a library this account may only read."""

    def __init__(self, root: Path) -> None:
        super().__init__(f"this library is read-only here ({root}): it can be searched, but not "
                         "changed without permission to write to its folder")


class CatalogueDamaged(LibraryError):
    """The manifest (the library's catalogue: documents, text, passages) cannot be read."""

    def __init__(self, root: Path, what: str = "damaged") -> None:
        super().__init__(
            f"this library's catalogue ({root / 'manifest.sqlite3'}) is {what} and cannot be read; "
            "your documents themselves are untouched: restore the library folder from a backup, "
            "or create a new library and add the documents again")


def private_umask() -> None:
    """New files of this process are private: SQLite, Chroma and hnswlib create theirs
    (WAL, segments) at moments we do not choose, so a mode given at each ``open`` would
    miss some. It is process-wide; everything docqa writes is the user's private data."""
    if sys.platform != "win32":
        os.umask(PRIVATE_UMASK)


def make_private(root: Path, parents: tuple[Path, ...] = ()) -> None:
    """Tighten a library made by an earlier version (or copied in): folders to 0700,
    files to 0600. One ``stat`` per file, a few dozen files: cheap enough for every open.
    ``parents`` (the data folder above a default library) get 0700 too, not their content."""
    if sys.platform == "win32":
        return
    for folder in parents:
        _tighten(folder)
    stack = [root]
    while stack:
        folder = stack.pop()
        _tighten(folder)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_symlink():
                    continue  # never follow a link out of the library
                if entry.is_dir():
                    stack.append(Path(entry.path))
                else:
                    _tighten(Path(entry.path))
            except OSError:
                continue


def _tighten(path: Path) -> None:
    """Take away group's and others' bits (0755 -> 0700, 0644 -> 0600)."""
    try:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & _GROUP_OTHER:
            os.chmod(path, mode & ~_GROUP_OTHER)
    except OSError:
        pass  # not ours to change (another account's file): reading it still works


def writable(root: Path, names: tuple[str, ...]) -> bool:
    """Whether this account can write the library at ``root``: its folder and the files
    named (those that exist). ``os.access`` asks the OS, which also knows read-only
    mounts; root passes it everywhere except on those."""
    if not os.access(root, os.W_OK | os.X_OK):
        return False
    return all(os.access(root / n, os.W_OK) for n in names if (root / n).exists())


def first_missing(path: Path) -> Path | None:
    """The highest folder of ``path`` (itself included) that does not exist yet: what a
    failed first run has to remove so that it leaves nothing behind."""
    missing = None
    for p in (path, *path.parents):
        if p.exists():
            break
        missing = p
    return missing


MANIFEST_FILE = "manifest.sqlite3"
# What a library writes: if this account cannot write any of them, it is read-only here.
WRITTEN = (MANIFEST_FILE, f"{MANIFEST_FILE}-wal", f"{MANIFEST_FILE}-shm", KEY_FILE, AUDIT_FILE,
           LOCK_FILE, INDEX_DIR, f"{INDEX_DIR}/{CHROMA_FILE}")


class ReadOnlyAuditLog(AuditLog):
    """The log of a library opened read-only: nothing can be appended here."""

    def record(self, event: str, **data: object) -> None:
        return None


def open_manifest(root: Path, key: bytes, migration: MigrationProgress | None, read_only: bool) -> Manifest:
    """The manifest, or :class:`CatalogueDamaged`: the key was checked against ``key.json``
    already, so a manifest that does not open with it is damaged, not someone else's."""
    try:
        return Manifest(root / MANIFEST_FILE, key, migration, read_only=read_only)
    except KeyUnavailable:
        raise CatalogueDamaged(root) from None
    except database_errors() as err:
        if is_damage(err):
            raise CatalogueDamaged(root) from None
        raise


def data_folders(root: Path) -> tuple[Path, ...]:
    """The data folder and its ``libraries/`` above a library kept there (the default
    place), so that nobody else can even list the libraries' names."""
    from rag.paths import data_dir, libraries_dir

    home, libs = data_dir(), libraries_dir()
    try:
        inside = root.resolve().parent == libs.resolve()
    except OSError:
        return ()
    return (home, libs) if inside else ()


def check_files(root: Path, key_file: Path, audit_file: Path) -> None:
    """Refuse a library whose key file or catalogue is gone, before anything is made in
    their place: a new key would never open the old catalogue, and a new empty catalogue
    would look like a library whose documents all vanished."""
    manifest = root / MANIFEST_FILE
    size = manifest.stat().st_size if manifest.exists() else 0
    if not key_file.exists() and size and not is_plaintext(manifest):
        raise LibraryError(
            f"this library's key file ({key_file}) is missing, and the catalogue cannot be read "
            "without it; your documents themselves are untouched: restore the library folder "
            "from a backup, or create a new library and add the documents again")
    # The audit log is written after the catalogue is made: a library killed before that
    # is new, not damaged.
    if key_file.exists() and not size and audit_file.exists() and audit_file.stat().st_size:
        raise CatalogueDamaged(root, "missing" if not manifest.exists() else "empty")


def explain(err: BaseException, root: Path) -> BaseException:
    """What a person should read for ``err``, met in the middle of a command: a page of
    the catalogue read for the first time and found damaged, a write refused by the OS,
    or a crash inside the search index that no repair caught."""
    if isinstance(err, database_errors()):
        if is_damage(err):
            return CatalogueDamaged(root)
        if getattr(err, "sqlite_errorcode", 0) & 0xFF == 8:  # SQLITE_READONLY
            # SQLCipher also turns a connection read-only once a page failed its HMAC.
            names = tuple(MANIFEST_FILE + s for s in ("", "-wal", "-shm"))
            return CatalogueDamaged(root) if writable(root, names) else LibraryReadOnly(root)
    if type(err).__name__ == "PanicException":
        return LibraryError("the search index failed and could not be repaired here; "
                            "run 'docqa rebuild-index' where this library can be written")
    return err
