"""The library's source of truth: a SQLite file (WAL) holding documents, page text,
chunks with offsets and their embeddings, and an FTS5 keyword index.

Chroma is derived from this file and can be rebuilt from it at any time without
re-parsing or re-embedding (:meth:`rag.library.Library.rebuild_index`). Document text
lives here and never in Chroma, so encrypting this one file (SQLCipher, :mod:`rag.store.database`)
protects it. Reading passages and the keyword index is in :mod:`rag.store.chunks`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rag.ingest.profiles import PROFILE_VERSION, DocProfile, extract_profile
from rag.store.chunks import ChunkQueries
from rag.store.database import MigrationProgress, open_database
from rag.store.file_states import FileQueries, FileState
from rag.store.grids import GRID_SCHEMA
from rag.store.schema import COUNTER, COUNTER_TRIGGERS, SCHEMA, SCHEMA_VERSION
from rag.types import Chunk, DocStatus, DocumentInfo, ParsedDocument, StoredChunk

__all__ = ["SCHEMA_VERSION", "FileState", "Manifest", "StoredChunk"]

class Manifest(ChunkQueries, FileQueries):
    """Thread-safe access to the manifest (one connection, one lock: SQLite is fast enough).

    With ``key`` (a library's manifest key) the file is encrypted, and a plaintext file
    from an earlier version is encrypted first (``progress`` hears about it); without,
    it is plain SQLite, for scratch databases only: a library always passes its key.
    """

    def __init__(self, path: Path, key: bytes | None = None,
                 progress: MigrationProgress | None = None, *, read_only: bool = False) -> None:
        self.path = path
        self.encrypted = key is not None
        self.read_only = read_only
        self._lock = threading.RLock()
        self._db = open_database(path, key, progress, read_only)
        if read_only:
            return  # as it is: setting up or migrating the schema would be writing
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA + COUNTER_TRIGGERS)
        if self.get_meta("schema_version") is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        self._migrate()

    def _migrate(self) -> None:
        """Bring a library written by an earlier version up to this schema.

        ``CREATE TABLE IF NOT EXISTS`` leaves an old table as it was, so columns added
        since are added here; document profiles are then read from the stored page text,
        which needs neither the original file nor re-embedding.
        """
        with self._lock:
            cols = {str(r[1]) for r in self._db.execute("PRAGMA table_info(documents)")}
            if "profile" not in cols:
                self._db.execute("ALTER TABLE documents ADD COLUMN profile TEXT")
            # An e-mail's attachments are documents of their own that go with it.
            if "parent_id" not in cols:
                self._db.execute("ALTER TABLE documents ADD COLUMN parent_id INTEGER"
                                 " REFERENCES documents(id) ON DELETE CASCADE")
            if "location" not in {str(r[1]) for r in self._db.execute("PRAGMA table_info(chunks)")}:
                self._db.execute("ALTER TABLE chunks ADD COLUMN location TEXT NOT NULL DEFAULT ''")
            if "mtime" not in cols:  # sync (rag/ingest/sync.py): a changed file is seen without hashing
                self._db.execute("ALTER TABLE documents ADD COLUMN mtime REAL NOT NULL DEFAULT 0")
            # Each page's OCR confidence, so a reader can weigh a doubtful page; NULL for a
            # page with a text layer, and for pages stored before it was kept.
            if "ocr_confidence" not in {str(r[1]) for r in self._db.execute("PRAGMA table_info(pages)")}:
                self._db.execute("ALTER TABLE pages ADD COLUMN ocr_confidence REAL")
            # The few pages read by OCR, without reading every page's text (documents()).
            self._db.execute("CREATE INDEX IF NOT EXISTS pages_by_ocr ON pages(doc_id, number, ocr_confidence)"
                             " WHERE ocr_confidence IS NOT NULL")
            # Review grids (rag/store/grids.py): new tables, nothing to convert.
            self._db.executescript(GRID_SCHEMA)
            # Profiles read by an older extractor are read again: it is cheap, and better
            # profiles find documents better.
            if self.get_meta("profile_version") != str(PROFILE_VERSION):
                self._db.execute("UPDATE documents SET profile=NULL")
                self.set_meta("profile_version", str(PROFILE_VERSION))
        self.backfill_profiles()

    def backfill_profiles(self) -> int:
        """Read the profile of every stored document that has none yet; returns how many."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, title FROM documents WHERE profile IS NULL AND status!=?",
                (DocStatus.FAILED.value,),
            ).fetchall()
        for doc_id, name, title in rows:
            with self._lock:
                pages = [str(r[0]) for r in self._db.execute(
                    "SELECT text FROM pages WHERE doc_id=? ORDER BY number LIMIT 3", (doc_id,)
                )]
            self.set_profile(int(doc_id), extract_profile(pages, str(title), str(name)))
        return len(rows)

    def set_profile(self, doc_id: int, profile: DocProfile) -> None:
        with self._lock:
            self._db.execute("UPDATE documents SET profile=? WHERE id=?", (profile.to_json(), doc_id))

    def change_marker(self) -> str:
        """Differs after any write to documents and their passages, by this process or
        another: for caches of what searches read (the audit log's writes leave it)."""
        return self.get_meta(COUNTER) or ""

    def profiles(self) -> dict[int, tuple[str, DocProfile]]:
        """doc id -> (name, profile) for ready documents."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, title, profile FROM documents WHERE status=?", (DocStatus.READY.value,)
            ).fetchall()
        out = {}
        for r in rows:
            p = DocProfile.from_json(r[3])
            if not p.title and r[2]:
                p = DocProfile(str(r[2]), p.parties, p.aliases, p.years)
            out[int(r[0])] = (str(r[1]), p)
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- documents ----------------------------------------------------------------------
    def find_document(self, path: str) -> tuple[int, str, str] | None:
        """(id, sha256, status) of the document at ``path``, if known."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, sha256, status FROM documents WHERE path=?", (path,)
            ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), str(row[2]))

    def begin_document(
        self,
        *,
        path: str,
        name: str,
        sha256: str,
        size: int,
        parsed: ParsedDocument,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        profile: DocProfile | None = None,
        parent_id: int | None = None,
        mtime: float = 0.0,
    ) -> tuple[int, list[int], int | None]:
        """Write a parsed, embedded document in one transaction, status INDEXING.

        Replaces any earlier version at the same path. Returns the new document id, its
        chunk ids, and the id of the replaced document (whose vectors must go, and its
        attachments' with them). Without a ``profile``, it is read from the document's
        first pages here. ``parent_id``: the e-mail this document is an attachment of.
        """
        if profile is None:
            profile = extract_profile([p.text for p in parsed.pages[:3]], parsed.title, name)
        now = time.time()
        with self.transaction() as db:
            old = db.execute("SELECT id, added_at FROM documents WHERE path=?", (path,)).fetchone()
            added = float(old[1]) if old else now
            if old:
                db.execute("DELETE FROM documents WHERE id=?", (old[0],))
            cur = db.execute(
                "INSERT INTO documents(path, name, kind, sha256, size, title, profile, status, pages,"
                " added_at, updated_at, parent_id, mtime) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (path, name, parsed.kind, sha256, size, parsed.title, profile.to_json(),
                 DocStatus.INDEXING.value, len(parsed.pages), added, now, parent_id, mtime),
            )
            doc_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO pages(doc_id, number, text, ocr_confidence) VALUES (?,?,?,?)",
                [(doc_id, p.number, p.text, p.ocr_confidence) for p in parsed.pages],
            )
            ids: list[int] = []
            vecs = np.asarray(vectors, dtype=np.float32)
            for c, v in zip(chunks, vecs):
                cur = db.execute(
                    'INSERT INTO chunks(doc_id, ordinal, page, start, "end", heading, text, embedding,'
                    " location) VALUES (?,?,?,?,?,?,?,?,?)",
                    (doc_id, c.ordinal, c.page, c.start, c.end, c.heading, c.text, v.tobytes(),
                     c.location),
                )
                ids.append(int(cur.lastrowid or 0))
        return doc_id, ids, (int(old[0]) if old else None)

    def mark_ready(self, doc_id: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE documents SET status=?, error='' WHERE id=?", (DocStatus.READY.value, doc_id)
            )

    def record_failure(
        self, *, path: str, name: str, kind: str, reason: str, size: int,
        parent_id: int | None = None, mtime: float = 0.0
    ) -> int:
        """Remember a file that failed, with its reason, so the user can see why.

        A failed re-ingest of a file that was indexed before leaves the good version alone.
        """
        now = time.time()
        with self.transaction() as db:
            old = db.execute("SELECT id, status FROM documents WHERE path=?", (path,)).fetchone()
            if old and old[1] == DocStatus.READY.value:
                db.execute("UPDATE documents SET error=?, updated_at=? WHERE id=?", (reason, now, old[0]))
                return int(old[0])
            if old:
                db.execute("DELETE FROM documents WHERE id=?", (old[0],))
            cur = db.execute(
                "INSERT INTO documents(path, name, kind, size, status, error, added_at, updated_at,"
                " parent_id, mtime) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (path, name, kind, size, DocStatus.FAILED.value, reason, now, now, parent_id, mtime),
            )
            return int(cur.lastrowid or 0)

    def delete_document(self, doc_id: int) -> None:
        """Deletes its attachments too (ON DELETE CASCADE): their vectors are the caller's
        to delete, see :meth:`descendants`."""
        with self.transaction() as db:
            db.execute("DELETE FROM documents WHERE id=?", (doc_id,))

    def set_sha256(self, doc_id: int, sha256: str) -> None:
        with self._lock:
            self._db.execute("UPDATE documents SET sha256=? WHERE id=?", (sha256, doc_id))

    def descendants(self, doc_id: int) -> list[int]:
        """The ids of a document's attachments, theirs, and so on (an e-mail's family)."""
        with self._lock:
            rows = self._db.execute(
                "WITH RECURSIVE f(id) AS (SELECT id FROM documents WHERE parent_id=? UNION "
                "SELECT d.id FROM documents d JOIN f ON d.parent_id=f.id) SELECT id FROM f", (doc_id,)
            ).fetchall()
        return [int(r[0]) for r in rows]

    def set_note(self, doc_id: int, note: str) -> None:
        """A ready document's warning ("page 3 could not be read"), kept where a failed
        re-ingest's reason is kept: ``error`` of a READY document."""
        with self._lock:
            self._db.execute("UPDATE documents SET error=? WHERE id=?", (note, doc_id))

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT d.id, d.path, d.name, d.kind, d.pages, "
                "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id=d.id), d.status, d.error, "
                "d.added_at, d.size, d.parent_id FROM documents d ORDER BY d.name COLLATE NOCASE"
            ).fetchall()
            ocr: dict[int, list[tuple[int, float]]] = {}
            for d, n, conf in self._db.execute(
                "SELECT doc_id, number, ocr_confidence FROM pages"  # through pages_by_ocr
                " WHERE ocr_confidence IS NOT NULL ORDER BY doc_id, number"
            ):
                ocr.setdefault(int(d), []).append((int(n), float(conf)))
        return [
            DocumentInfo(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5]), DocStatus(r[6]), r[7],
                         float(r[8]), int(r[9]), int(r[10] or 0), tuple(ocr.get(int(r[0]), ())))
            for r in rows
        ]

    def documents_with_status(self, status: DocStatus) -> list[int]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM documents WHERE status=?", (status.value,)).fetchall()
        return [int(r[0]) for r in rows]

    def titles(self) -> dict[int, tuple[str, str]]:
        """doc id -> (name, title) for ready documents."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, title FROM documents WHERE status=?", (DocStatus.READY.value,)
            ).fetchall()
        return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}

    def page_text(self, doc_id: int, number: int) -> str:
        with self._lock:
            row = self._db.execute(
                "SELECT text FROM pages WHERE doc_id=? AND number=?", (doc_id, number)
            ).fetchone()
        return "" if row is None else str(row[0])

    def first_texts(self, doc_ids: Sequence[int], chars: int = 2000) -> dict[int, str]:
        return {int(d): self.first_text(int(d), chars) for d in doc_ids}

    def ocr_pages(self, doc_id: int) -> list[tuple[int, float]]:
        """(page number, mean word confidence 0-100) of each page of the document read by OCR."""
        with self._lock:
            rows = self._db.execute(
                "SELECT number, ocr_confidence FROM pages WHERE doc_id=? AND ocr_confidence IS NOT NULL"
                " ORDER BY number", (doc_id,)
            ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def first_text(self, doc_id: int, chars: int = 2000) -> str:
        with self._lock:
            row = self._db.execute(
                "SELECT substr(text, 1, ?) FROM pages WHERE doc_id=? ORDER BY number LIMIT 1",
                (chars, doc_id),
            ).fetchone()
        return "" if row is None else str(row[0])
