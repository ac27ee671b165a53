"""Saved review grids, their cached cells and the reviewer's marks, inside the encrypted
manifest (quotes are document text: they are kept where the documents' text is).

A cell is cached by (document content hash, column question, engine version): a document
added to a matter gets its row computed and every other row is read back; a column whose
question is edited is a new question, computed again; a document whose content changed
has a new hash. Cached cells of documents no longer in the library are deleted, with
their quotes. Marks belong to a saved grid, per document path and column name.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

GRID_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_cells(
    doc_sha TEXT NOT NULL,
    question TEXT NOT NULL,
    engine TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT NOT NULL,
    quotes TEXT NOT NULL,            -- JSON: the quotes with their page offsets
    score REAL NOT NULL,
    cue INTEGER NOT NULL,
    PRIMARY KEY(doc_sha, question, engine)
);
CREATE TABLE IF NOT EXISTS review_grids(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    columns TEXT NOT NULL,           -- JSON: [{"name", "question"}] in the reviewer's order
    documents TEXT,                  -- JSON: [path] chosen, or NULL for every document
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS review_marks(
    grid_id INTEGER NOT NULL REFERENCES review_grids(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    column_name TEXT NOT NULL,
    mark TEXT NOT NULL,              -- verified | flagged | overwritten
    text TEXT NOT NULL DEFAULT '',   -- the reviewer's own answer, for "overwritten"
    note TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL,
    PRIMARY KEY(grid_id, path, column_name)
);
"""

MARKS = ("verified", "flagged", "overwritten")


@dataclass(frozen=True)
class Mark:
    path: str
    column: str
    mark: str
    text: str = ""
    note: str = ""
    at: float = 0.0


@dataclass(frozen=True)
class Grid:
    id: int
    name: str
    columns: list[tuple[str, str]]  # (name, question)
    documents: list[str] | None  # paths; None: every document of the library


class GridStore:
    """Cells, grids and marks in a manifest's connection (``db`` and its ``lock``)."""

    def __init__(self, db: Any, lock: threading.RLock, writable: bool) -> None:
        self._db = db
        self._lock = lock
        self.writable = writable

    def _has_tables(self) -> bool:
        with self._lock:
            return self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='review_cells'").fetchone() is not None

    # -- cells -------------------------------------------------------------------------
    def cached(self, doc_sha: str, question: str, engine: str) -> dict[str, Any] | None:
        if not doc_sha or not self._has_tables():
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT status, answer, quotes, score, cue FROM review_cells WHERE doc_sha=? AND question=? "
                "AND engine=?", (doc_sha, question, engine)).fetchone()
        if row is None:
            return None
        return {"status": row[0], "answer": row[1], "quotes": json.loads(row[2]), "score": row[3], "cue": row[4]}

    def put(self, doc_sha: str, question: str, engine: str, cell: dict[str, Any]) -> None:
        """Keep a cell: ``cell`` has "status", "answer", "quotes" (JSON-able), "score", "cue"."""
        if not doc_sha or not self.writable or not self._has_tables():
            return  # a read-only library computes its cells every time
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO review_cells VALUES (?,?,?,?,?,?,?,?)",
                (doc_sha, question, engine, cell["status"], cell["answer"], json.dumps(cell["quotes"]),
                 float(cell["score"]), int(cell["cue"])))

    def prune(self, shas: set[str]) -> int:
        """Delete the cached cells of documents whose content is no longer in the library."""
        if not self.writable or not self._has_tables():
            return 0
        with self._lock:
            known = {str(r[0]) for r in self._db.execute("SELECT DISTINCT doc_sha FROM review_cells")}
            gone = sorted(known - shas)
            for sha in gone:
                self._db.execute("DELETE FROM review_cells WHERE doc_sha=?", (sha,))
        return len(gone)

    # -- grids and marks ---------------------------------------------------------------
    def save_grid(self, name: str, columns: list[tuple[str, str]], documents: list[str] | None = None) -> int:
        cols = json.dumps([{"name": n, "question": q} for n, q in columns])
        docs = json.dumps(documents) if documents is not None else None
        with self._lock:
            self._db.execute(
                "INSERT INTO review_grids(name, columns, documents, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET columns=excluded.columns, documents=excluded.documents, "
                "updated_at=excluded.updated_at", (name, cols, docs, time.time()))
            row = self._db.execute("SELECT id FROM review_grids WHERE name=?", (name,)).fetchone()
            # A column removed takes its marks with it; a column renamed starts unmarked.
            names = [n for n, _q in columns]
            self._db.execute(
                f"DELETE FROM review_marks WHERE grid_id=? AND column_name NOT IN ({','.join('?' * len(names))})",
                (int(row[0]), *names))
        return int(row[0])

    def grids(self) -> list[Grid]:
        if not self._has_tables():
            return []
        with self._lock:
            rows = self._db.execute("SELECT id, name, columns, documents FROM review_grids ORDER BY name").fetchall()
        return [Grid(int(r[0]), str(r[1]), [(c["name"], c["question"]) for c in json.loads(r[2])],
                     json.loads(r[3]) if r[3] is not None else None) for r in rows]

    def grid(self, name: str) -> Grid | None:
        return next((g for g in self.grids() if g.name == name), None)

    def delete_grid(self, grid_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM review_marks WHERE grid_id=?", (grid_id,))
            self._db.execute("DELETE FROM review_grids WHERE id=?", (grid_id,))

    def set_mark(self, grid_id: int, mark: Mark) -> None:
        if mark.mark not in MARKS:
            raise ValueError(f"a mark is one of {', '.join(MARKS)}")
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO review_marks VALUES (?,?,?,?,?,?,?)",
                             (grid_id, mark.path, mark.column, mark.mark, mark.text, mark.note, time.time()))

    def clear_mark(self, grid_id: int, path: str, column: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM review_marks WHERE grid_id=? AND path=? AND column_name=?",
                             (grid_id, path, column))

    def marks(self, grid_id: int) -> dict[tuple[str, str], Mark]:
        if not self._has_tables():
            return {}
        with self._lock:
            rows = self._db.execute("SELECT path, column_name, mark, text, note, at FROM review_marks "
                                    "WHERE grid_id=?", (grid_id,)).fetchall()
        return {(str(r[0]), str(r[1])): Mark(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), float(r[5]))
                for r in rows}

