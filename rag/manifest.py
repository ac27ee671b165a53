"""The library's source of truth: a SQLite file (WAL) holding documents, page text,
chunks with offsets and their embeddings, and an FTS5 keyword index.

Chroma is derived from this file and can be rebuilt from it at any time without
re-parsing or re-embedding (:meth:`rag.library.Library.rebuild_index`). Document text
lives here and never in Chroma, so that encrypting this one file later protects it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.doc_profile import PROFILE_VERSION, DocProfile, extract_profile
from rag.text import keywords
from rag.types import Chunk, DocStatus, DocumentInfo, ParsedDocument

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,       -- absolute path: the identity of a document
    name TEXT NOT NULL,              -- what the user sees: path relative to what was ingested
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    title TEXT NOT NULL DEFAULT '',
    profile TEXT,                    -- DocProfile JSON; NULL until read from the first pages
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    added_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pages(
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY(doc_id, number)
);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    page INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    heading TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id, ordinal);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    heading, text, content='chunks', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, heading, text) VALUES (new.id, new.heading, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, heading, text) VALUES ('delete', old.id, old.heading, old.text);
END;
"""

@dataclass(frozen=True)
class StoredChunk:
    id: int
    doc_id: int
    ordinal: int
    page: int
    start: int
    end: int
    heading: str
    text: str
    name: str
    path: str


@dataclass(frozen=True)
class FileState:
    id: int
    path: str
    name: str
    sha256: str
    size: int
    mtime: float
    status: str


class Manifest:
    """Thread-safe access to the manifest (one connection, one lock: SQLite is fast enough)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
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
            if "mtime" not in cols:  # sync (rag/sync.py): a changed file is seen without hashing
                self._db.execute("ALTER TABLE documents ADD COLUMN mtime REAL NOT NULL DEFAULT 0")
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
    def transaction(self) -> Iterator[sqlite3.Connection]:
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
        mtime: float = 0.0,
    ) -> tuple[int, list[int], int | None]:
        """Write a parsed, embedded document in one transaction, status INDEXING.

        Replaces any earlier version at the same path. Returns the new document id, its
        chunk ids, and the id of the replaced document (whose vectors must go). Without a
        ``profile``, it is read from the document's first pages here.
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
                " added_at, updated_at, mtime) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (path, name, parsed.kind, sha256, size, parsed.title, profile.to_json(),
                 DocStatus.INDEXING.value, len(parsed.pages), added, now, mtime),
            )
            doc_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO pages(doc_id, number, text) VALUES (?,?,?)",
                [(doc_id, p.number, p.text) for p in parsed.pages],
            )
            ids: list[int] = []
            vecs = np.asarray(vectors, dtype=np.float32)
            for c, v in zip(chunks, vecs):
                cur = db.execute(
                    'INSERT INTO chunks(doc_id, ordinal, page, start, "end", heading, text, embedding)'
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (doc_id, c.ordinal, c.page, c.start, c.end, c.heading, c.text, v.tobytes()),
                )
                ids.append(int(cur.lastrowid or 0))
        return doc_id, ids, (int(old[0]) if old else None)

    def mark_ready(self, doc_id: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE documents SET status=?, error='' WHERE id=?", (DocStatus.READY.value, doc_id)
            )

    def record_failure(
        self, *, path: str, name: str, kind: str, reason: str, size: int, mtime: float = 0.0
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
                "INSERT INTO documents(path, name, kind, size, status, error, added_at, updated_at, mtime)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (path, name, kind, size, DocStatus.FAILED.value, reason, now, now, mtime),
            )
            return int(cur.lastrowid or 0)

    def delete_document(self, doc_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM documents WHERE id=?", (doc_id,))

    def documents(self) -> list[DocumentInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT d.id, d.path, d.name, d.kind, d.pages, "
                "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id=d.id), d.status, d.error, "
                "d.added_at, d.size FROM documents d ORDER BY d.name COLLATE NOCASE"
            ).fetchall()
        return [
            DocumentInfo(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5]), DocStatus(r[6]), r[7],
                         float(r[8]), int(r[9]))
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

    def first_text(self, doc_id: int, chars: int = 2000) -> str:
        with self._lock:
            row = self._db.execute(
                "SELECT substr(text, 1, ?) FROM pages WHERE doc_id=? ORDER BY number LIMIT 1",
                (chars, doc_id),
            ).fetchone()
        return "" if row is None else str(row[0])

    # -- chunks -------------------------------------------------------------------------
    _CHUNK_COLS = (
        'c.id, c.doc_id, c.ordinal, c.page, c.start, c."end", c.heading, c.text, d.name, d.path'
    )

    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = list(ids)
        if not ids:
            return {}
        out: dict[int, StoredChunk] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT {self._CHUNK_COLS} FROM chunks c JOIN documents d ON d.id=c.doc_id "
                    f"WHERE c.id IN ({marks}) AND d.status=?",
                    (*part, DocStatus.READY.value),
                ).fetchall()
                for r in rows:
                    out[int(r[0])] = StoredChunk(*r)
        return out

    def neighbours(self, doc_id: int, ordinal: int, before: int, after: int) -> list[StoredChunk]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {self._CHUNK_COLS} FROM chunks c JOIN documents d ON d.id=c.doc_id "
                "WHERE c.doc_id=? AND c.ordinal BETWEEN ? AND ? ORDER BY c.ordinal",
                (doc_id, ordinal - before, ordinal + after),
            ).fetchall()
        return [StoredChunk(*r) for r in rows]

    def keyword_search(
        self, query: str, k: int, doc_ids: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """BM25 over chunk text and headings: (chunk id, score), best first.

        With ``doc_ids``, only chunks of those documents (the statistics stay library-wide).
        """
        words = keywords(query)
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
        if doc_ids is None:
            return self._keyword_search_all(match, k)
        only = ""
        args: tuple[object, ...] = (match, DocStatus.READY.value)
        if doc_ids is not None:
            if not doc_ids:
                return []
            only = f" AND c.doc_id IN ({','.join('?' * len(doc_ids))})"
            args += tuple(int(d) for d in doc_ids)
        with self._lock:
            rows = self._db.execute(
                "SELECT f.rowid, bm25(chunks_fts, 2.0, 1.0) AS s FROM chunks_fts f "
                "JOIN chunks c ON c.id=f.rowid JOIN documents d ON d.id=c.doc_id "
                f"WHERE chunks_fts MATCH ? AND d.status=?{only} ORDER BY s LIMIT ?",
                (*args, k),
            ).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _keyword_search_all(self, match: str, k: int) -> list[tuple[int, float]]:
        """Rank in the keyword index alone, then keep the chunks of ready documents: at
        ~50,000 passages, joining every match to its chunk and document before the LIMIT
        took 2-3 times as long (tests/bench/search_scale.py). Same results: more are
        fetched whenever some of the best belong to documents not ready."""
        fetch = k + 32
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT rowid, bm25(chunks_fts, 2.0, 1.0) AS s FROM chunks_fts "
                    "WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?", (match, fetch),
                ).fetchall()
                ids = [int(r[0]) for r in rows]
                ready: set[int] = set()
                for i in range(0, len(ids), 500):
                    part = ids[i : i + 500]
                    ready.update(int(r[0]) for r in self._db.execute(
                        f"SELECT c.id FROM chunks c JOIN documents d ON d.id=c.doc_id "
                        f"WHERE c.id IN ({','.join('?' * len(part))}) AND d.status=?",
                        (*part, DocStatus.READY.value)))
            out = [(int(r[0]), -float(r[1])) for r in rows if int(r[0]) in ready]
            if len(out) >= k or len(rows) < fetch:
                return out[:k]
            fetch *= 4

    def document_frequency(self, word: str) -> int:
        """How many ready documents contain ``word`` anywhere (as the keyword index sees it)."""
        if not word.isalnum():
            return 0
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(DISTINCT c.doc_id) FROM chunks_fts f JOIN chunks c ON c.id=f.rowid "
                "JOIN documents d ON d.id=c.doc_id WHERE chunks_fts MATCH ? AND d.status=?",
                (f'"{word}"', DocStatus.READY.value),
            ).fetchone()
        return int(row[0])

    def embeddings(self, doc_id: int | None = None) -> Iterator[tuple[list[int], list[int], np.ndarray]]:
        """(chunk ids, doc ids, vectors) of ready documents, in batches: to rebuild the index."""
        sql = "SELECT c.id, c.doc_id, c.embedding FROM chunks c JOIN documents d ON d.id=c.doc_id WHERE d.status=?"
        args: tuple[object, ...] = (DocStatus.READY.value,)
        if doc_id is not None:
            sql += " AND c.doc_id=?"
            args += (doc_id,)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        for i in range(0, len(rows), 1000):
            part = rows[i : i + 1000]
            vecs = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in part])
            yield [int(r[0]) for r in part], [int(r[1]) for r in part], vecs

    def embeddings_any(self, doc_id: int) -> Iterator[tuple[list[int], list[int], np.ndarray]]:
        """(chunk ids, doc ids, vectors) of one document whatever its status: for recovery."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, doc_id, embedding FROM chunks WHERE doc_id=? AND embedding IS NOT NULL",
                (doc_id,),
            ).fetchall()
        for i in range(0, len(rows), 1000):
            part = rows[i : i + 1000]
            vecs = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in part])
            yield [int(r[0]) for r in part], [int(r[1]) for r in part], vecs

    def chunk_ids(self, doc_id: int) -> list[int]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,)).fetchall()
        return [int(r[0]) for r in rows]

    def count_chunks(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id=c.doc_id WHERE d.status=?",
                (DocStatus.READY.value,),
            ).fetchone()
        return int(row[0])

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        """The words no passage holds (as the keyword index stems them): "metformin" in a
        library of contracts."""
        out = []
        with self._lock:
            for w in dict.fromkeys(words):
                row = self._db.execute(
                    "SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1", (f'"{w}"',)
                ).fetchone()
                if row is None:
                    out.append(w)
        return out

    # -- sync (rag/sync.py) ---------------------------------------------------------------
    def file_states(self) -> list[FileState]:
        """What the library knows of each file: to compare with the disk."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, path, name, sha256, size, mtime, status FROM documents"
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
            db.execute("DELETE FROM documents WHERE path=? AND id!=?", (path, doc_id))
            db.execute("UPDATE documents SET path=?, name=?, mtime=?, updated_at=? WHERE id=?",
                       (path, name, mtime, time.time(), doc_id))
