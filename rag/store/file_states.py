"""What a library knows of each file on disk, for ``docqa sync`` (rag/ingest/sync.py): a
mixin of :class:`rag.store.manifest.Manifest` over its connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from rag.ingest.attachments import SEPARATOR


@dataclass(frozen=True)
class FileState:
    id: int
    path: str
    name: str
    sha256: str
    size: int
    mtime: float
    status: str


class FileQueries:
    _db: Any
    _lock: threading.RLock
    transaction: Callable[[], AbstractContextManager[Any]]

    def file_states(self) -> list[FileState]:
        """What the library knows of each file: to compare with the disk."""
        with self._lock:
            # An attachment is no file of its own: it follows its message.
            rows = self._db.execute(
                "SELECT id, path, name, sha256, size, mtime, status FROM documents WHERE parent_id IS NULL"
            ).fetchall()
        return [FileState(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5]), str(r[6]))
                for r in rows]

    def set_stat(self, doc_id: int, size: int, mtime: float) -> None:
        """A file touched but not changed (same content): remember its new size and time."""
        with self._lock:
            self._db.execute("UPDATE documents SET size=?, mtime=? WHERE id=?", (size, mtime, doc_id))

    def move_document(self, doc_id: int, *, path: str, name: str, mtime: float) -> None:
        """A file moved or renamed on disk: same content, same passages and vectors."""
        with self.transaction() as db:
            before = db.execute("SELECT path, name FROM documents WHERE id=?", (doc_id,)).fetchone()
            db.execute("DELETE FROM documents WHERE path=? AND id!=?", (path, doc_id))
            db.execute("UPDATE documents SET path=?, name=?, mtime=?, updated_at=? WHERE id=?",
                       (path, name, mtime, time.time(), doc_id))
            if before:
                # A message's attachments are named after it ("mail.eml::contract.pdf",
                # "mail.eml › contract.pdf"): they move with it.
                old_path, old_name = str(before[0]) + SEPARATOR, str(before[1])
                db.execute(
                    "UPDATE documents SET path=? || substr(path, ?), name=? || substr(name, ?)"
                    " WHERE substr(path, 1, ?)=? AND substr(name, 1, ?)=?",
                    (path + SEPARATOR, len(old_path) + 1, name, len(old_name) + 1,
                     len(old_path), old_path, len(old_name), old_name),
                )
