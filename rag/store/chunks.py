"""The manifest's passages: reading chunks, their vectors, and the FTS5 keyword index.

A mixin of :class:`rag.store.manifest.Manifest` (which owns the connection and its lock), kept
apart so that the manifest module stays about one thing: what is stored and how it is
written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from rag.text import keywords
from rag.types import DocStatus, StoredChunk


class ChunkQueries:
    """Queries over chunks; needs ``_db`` (the connection) and ``_lock``."""

    _db: Any
    _lock: threading.RLock
    _df_cache: dict[str, int]  # word -> passages holding it ("": all passages), see _selective
    _df_state: str  # the manifest's change_marker() when the cache was filled
    change_marker: Callable[[], str]

    _CHUNK_COLS = (
        'c.id, c.doc_id, c.ordinal, c.page, c.start, c."end", c.heading, c.text, d.name, d.path,'
        " c.location"
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
        self, query: str, k: int, doc_ids: Sequence[int] | None = None, common_share: float = 1.0
    ) -> list[tuple[int, float]]:
        """BM25 over chunk text and headings: (chunk id, score), best first.

        With ``doc_ids``, only chunks of those documents (the statistics stay library-wide).
        Words held by more than ``common_share`` of all passages are left out of the match
        while a rarer word remains (see :meth:`_selective`).
        """
        words = list(dict.fromkeys(keywords(query)))
        if not words:
            return []
        if common_share < 1.0:
            words = self._selective(words, common_share)
        match = " OR ".join(f'"{w}"' for w in words)
        if doc_ids is None:
            return self._keyword_search_all(match, k)
        return self._keyword_search_in(match, k, doc_ids)

    def _keyword_search_in(self, match: str, k: int, doc_ids: Sequence[int]) -> list[tuple[int, float]]:
        """Rank in the keyword index alone and keep the passages of ``doc_ids``: joining
        every match to its chunk row to test its document read a large row per match and
        took 57 ms at ~50,000 passages, against 10 ms for this (same results;
        tests/bench/search_scale.py). Restricting the match by rowid instead had a p95 of
        69 ms: FTS5 then works out the BM25 statistics again for each id."""
        if not doc_ids:
            return []
        out: list[tuple[int, float]] = []
        with self._lock:
            wanted = {int(r[0]) for r in self._db.execute(
                "SELECT c.id FROM chunks c JOIN documents d ON d.id=c.doc_id "
                f"WHERE c.doc_id IN ({','.join('?' * len(doc_ids))}) AND d.status=?",
                (*(int(d) for d in doc_ids), DocStatus.READY.value))}
            cur = self._db.execute(
                "SELECT rowid, bm25(chunks_fts, 2.0, 1.0) AS s FROM chunks_fts "
                "WHERE chunks_fts MATCH ? ORDER BY s", (match,))
            for rowid, score in cur:
                if int(rowid) in wanted:
                    out.append((int(rowid), -float(score)))
                    if len(out) == k:
                        break
            cur.close()  # not left open on the shared connection: it would hold a read snapshot
        return out

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

    def _selective(self, words: list[str], share: float) -> list[str]:
        """The query's words less those held by more than ``share`` of the passages, keeping
        at least the two rarest. FTS5 scores every passage an OR query matches before it
        can rank them: at ~50,000 passages "one" or "provided" match a third of the
        library, for words whose BM25 weight is next to nothing (log((N - n + 0.5) /
        (n + 0.5)) falls to 0 at half the passages). At 51,570 passages a fifth took the
        keyword search's p95 from 34 to 23 ms (p50 16 to 15 ms), recall on cuad-dev
        unchanged. Counting a word's passages reads its doclist only, so it is cheap, and
        the counts are kept until the manifest changes."""
        if len(words) <= 2:
            return words
        with self._lock:
            state = self.change_marker()
            if getattr(self, "_df_state", None) != state:
                self._df_cache, self._df_state = {}, state
            cache = self._df_cache
            for w in ("", *words):
                if w not in cache:  # "": the number of passages
                    cache[w] = int(self._db.execute(
                        "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?" if w
                        else "SELECT COUNT(*) FROM chunks_fts_docsize",  # one row per passage
                        (f'"{w}"',) if w else (),
                    ).fetchone()[0])
        limit = share * cache[""]
        kept = [w for w in words if cache[w] <= limit]
        if len(kept) < 2:
            kept = [w for w in words if w in sorted(words, key=lambda x: cache[x])[:2]]
        return kept

    def distinct_headings(self) -> list[str]:
        """Every different heading path of ready documents' passages (rag/ask/headings.py)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT c.heading FROM chunks c JOIN documents d ON d.id=c.doc_id "
                "WHERE d.status=? AND c.heading != ''", (DocStatus.READY.value,)).fetchall()
        return [str(r[0]) for r in rows]

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
