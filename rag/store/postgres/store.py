"""A team matter's store in PostgreSQL (:class:`rag.protocols.Store`): documents, pages and
passages with their embeddings (pgvector, HNSW) and keyword index (tsvector, GIN) in one
database, written in one transaction per document, so a backup or a replica always holds
both halves together.

A store is one matter seen by one user. Every statement names the matter (the first line of
defence); every transaction first sets ``docqa.user_id`` for row-level security (the second,
schema.sql), so a query that forgot its matter still reads nothing of a matter the user is
not a member of. Ranking is not done here: the keyword and vector candidates go to
:class:`rag.ask.retrieval.HybridRetriever`, which fuses them as for the SQLite store.

The connection is a pg8000.native one (pure Python, BSD-3-Clause), used under a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from rag.ingest.profiles import DocProfile, extract_profile
from rag.store.postgres.keywords import KeywordRanking, WordCache, keyword_candidates
from rag.store.postgres.vectors import MatterVectors, indexed_nearest, matter_vectors, nearest, vector_literal
from rag.types import Chunk, DocStatus, DocumentInfo, ParsedDocument, StoredChunk

_READY = DocStatus.READY.value


def _clean(text: str) -> str:
    """PostgreSQL text cannot hold NUL; SQLite can. One character for one keeps every
    passage's offsets into its page."""
    return text.replace("\x00", "\ufffd")


class PostgresStore:
    """One matter (``matter_id``) as one user (``user_id``) sees it, over ``conn``."""

    def __init__(self, conn: Any, matter_id: int, user_id: int, *, ef_search: int = 100,
                 ranking: KeywordRanking | None = None, memory_vectors: int = 20_000) -> None:
        self.conn = conn
        self.matter_id = int(matter_id)
        self.user_id = int(user_id)
        # HNSW's candidate list: at least k is searched; more finds the true neighbours more
        # often (Chroma's index is exact enough at this size, and ranking must match it).
        self.ef_search = int(ef_search)
        self.ranking = ranking or KeywordRanking()
        self._lock = threading.RLock()
        self._words = WordCache()  # counts and ranks of the matter's words, until it changes
        self._words_state: str | None = None
        # A matter of at most this many passages has its vectors searched in memory, exactly
        # (``vector_search``): 1.5 kB each, read again only when the matter changes.
        self.memory_vectors = int(memory_vectors)
        self._vectors: tuple[str, MatterVectors | None] | None = None
        self._borrowed: Any = None  # the caller's transaction, while ``within`` lasts
        self._marker_now: str | None = None  # the change marker read in this transaction

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """One transaction as this store's user: row-level security reads the user from
        ``docqa.user_id``, set LOCAL so that it ends with the transaction. Inside
        :meth:`within`, the caller's transaction instead."""
        with self._lock:
            if self._borrowed is not None:
                yield self._borrowed
                return
            self._marker_now = None
            self.conn.run("BEGIN")
            try:
                self.conn.run("SELECT set_config('docqa.user_id', :u, true)", u=str(self.user_id))
                yield self.conn
            except BaseException:
                self.conn.run("ROLLBACK")
                raise
            finally:
                self._marker_now = None
            self.conn.run("COMMIT")

    @contextmanager
    def within(self, conn: Any) -> Iterator[None]:
        """Run every call in the caller's open transaction on ``conn``, which must already be
        this store's user's (``docqa.user_id`` set LOCAL to ``user_id``, as docqa-server's
        request transactions are): a search then costs no transactions of its own, and
        row-level security applies to it as to the rest of the request."""
        with self._lock:
            self._borrowed, self._marker_now = conn, None
            try:
                yield
            finally:
                self._borrowed, self._marker_now = None, None

    def _bump(self, conn: Any) -> None:
        self._marker_now = None
        conn.run("INSERT INTO matter_state(matter_id, generation) VALUES (:m, 1) ON CONFLICT (matter_id)"
                 " DO UPDATE SET generation = matter_state.generation + 1", m=self.matter_id)

    # -- writing --------------------------------------------------------------------------
    def add_document(
        self, *, path: str, name: str, sha256: str, size: int, parsed: ParsedDocument,
        chunks: Sequence[Chunk], vectors: np.ndarray, profile: DocProfile | None = None,
        parent_id: int | None = None, mtime: float = 0.0,
    ) -> tuple[int, list[int]]:
        if profile is None:
            profile = extract_profile([p.text for p in parsed.pages[:3]], parsed.title, name)
        vecs = np.asarray(vectors, dtype=np.float32)
        if len(chunks) != len(vecs):
            raise ValueError(f"{len(chunks)} passages but {len(vecs)} vectors")
        now = time.time()
        m = self.matter_id
        with self._tx() as conn:
            old = conn.run("SELECT id, added_at FROM documents WHERE matter_id=:m AND path=:p", m=m, p=path)
            added = float(old[0][1]) if old else now
            if old:  # its pages, passages and attachments go with it (ON DELETE CASCADE)
                conn.run("DELETE FROM documents WHERE matter_id=:m AND id=:d", m=m, d=old[0][0])
            doc_id = int(conn.run(
                "INSERT INTO documents(matter_id, path, name, kind, sha256, size, title, profile, status,"
                " pages, parent_id, mtime, added_at, updated_at) VALUES (:m, :path, :name, :kind, :sha,"
                " :size, :title, :profile, :status, :pages, :parent, :mtime, :added, :now) RETURNING id",
                m=m, path=path, name=name, kind=parsed.kind, sha=sha256, size=size, title=_clean(parsed.title),
                profile=profile.to_json(), status=_READY, pages=len(parsed.pages), parent=parent_id,
                mtime=mtime, added=added, now=now)[0][0])
            if parsed.pages:
                conn.run(
                    "INSERT INTO pages(matter_id, doc_id, number, text, ocr_confidence) SELECT :m, :d, u.n, u.t, u.c"
                    " FROM unnest(CAST(:n AS int[]), CAST(:t AS text[]), CAST(:c AS real[])) AS u(n, t, c)",
                    m=m, d=doc_id, n=[p.number for p in parsed.pages], t=[_clean(p.text) for p in parsed.pages],
                    c=[p.ocr_confidence for p in parsed.pages])
            ids: list[int] = []
            if chunks:
                # Identity values are drawn in the order the rows are produced (ORDER BY the
                # ordinality), so the ascending ids are the passages in ``chunks`` order.
                rows = conn.run(
                    'INSERT INTO passages(matter_id, doc_id, ordinal, page, start, "end", heading, text,'
                    " location, embedding) SELECT :m, :d, u.o, u.p, u.s, u.e, u.h, u.t, u.l, CAST(u.v AS vector)"
                    " FROM unnest(CAST(:o AS int[]), CAST(:p AS int[]), CAST(:s AS int[]), CAST(:e AS int[]),"
                    " CAST(:h AS text[]), CAST(:t AS text[]), CAST(:l AS text[]), CAST(:v AS text[]))"
                    " WITH ORDINALITY AS u(o, p, s, e, h, t, l, v, n) ORDER BY u.n RETURNING id",
                    m=m, d=doc_id, o=[c.ordinal for c in chunks], p=[c.page for c in chunks],
                    s=[c.start for c in chunks], e=[c.end for c in chunks],
                    h=[_clean(c.heading) for c in chunks], t=[_clean(c.text) for c in chunks],
                    l=[c.location for c in chunks], v=[vector_literal(v) for v in vecs])
                ids = sorted(int(r[0]) for r in rows)
            self._bump(conn)
        return doc_id, ids

    def delete_document(self, doc_id: int) -> None:
        with self._tx() as conn:
            conn.run("DELETE FROM documents WHERE matter_id=:m AND id=:d", m=self.matter_id, d=int(doc_id))
            self._bump(conn)

    def record_failure(self, *, path: str, name: str, kind: str, reason: str, size: int,
                       parent_id: int | None = None, mtime: float = 0.0) -> int:
        now = time.time()
        m = self.matter_id
        with self._tx() as conn:
            old = conn.run("SELECT id, status FROM documents WHERE matter_id=:m AND path=:p", m=m, p=path)
            if old and old[0][1] == _READY:  # the good version stays searchable
                conn.run("UPDATE documents SET error=:e, updated_at=:t WHERE matter_id=:m AND id=:d",
                         e=reason, t=now, m=m, d=old[0][0])
                self._bump(conn)
                return int(old[0][0])
            if old:
                conn.run("DELETE FROM documents WHERE matter_id=:m AND id=:d", m=m, d=old[0][0])
            doc_id = int(conn.run(
                "INSERT INTO documents(matter_id, path, name, kind, size, status, error, parent_id, mtime,"
                " added_at, updated_at) VALUES (:m, :path, :name, :kind, :size, :s, :e, :parent, :mtime,"
                " :t, :t) RETURNING id", m=m, path=path, name=name, kind=kind, size=size,
                s=DocStatus.FAILED.value, e=reason, parent=parent_id, mtime=mtime, t=now)[0][0])
            self._bump(conn)
        return doc_id

    def set_note(self, doc_id: int, note: str) -> None:
        with self._tx() as conn:
            conn.run("UPDATE documents SET error=:e WHERE matter_id=:m AND id=:d", e=note, m=self.matter_id,
                     d=int(doc_id))
            self._bump(conn)

    # -- documents ----------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        with self._tx() as conn:
            rows = conn.run(
                "SELECT d.id, d.path, d.name, d.kind, d.pages, (SELECT count(*) FROM passages p WHERE"
                " p.doc_id=d.id), d.status, d.error, d.added_at, d.size, d.parent_id FROM documents d"
                " WHERE d.matter_id=:m ORDER BY lower(d.name), d.id", m=self.matter_id)
            ocr: dict[int, list[tuple[int, float]]] = {}
            for d, n, c in conn.run("SELECT doc_id, number, ocr_confidence FROM pages WHERE matter_id=:m"
                                    " AND ocr_confidence IS NOT NULL ORDER BY doc_id, number", m=self.matter_id):
                ocr.setdefault(int(d), []).append((int(n), float(c)))
        return [DocumentInfo(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5]), DocStatus(r[6]), r[7],
                             float(r[8]), int(r[9]), int(r[10] or 0), tuple(ocr.get(int(r[0]), ())))
                for r in rows]

    def find_document(self, path: str) -> tuple[int, str, str] | None:
        with self._tx() as conn:
            rows = conn.run("SELECT id, sha256, status FROM documents WHERE matter_id=:m AND path=:p",
                            m=self.matter_id, p=path)
        return (int(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None

    def profiles(self) -> dict[int, tuple[str, DocProfile]]:
        with self._tx() as conn:
            rows = conn.run("SELECT id, name, title, profile FROM documents WHERE matter_id=:m AND status=:s",
                            m=self.matter_id, s=_READY)
        out = {}
        for r in rows:
            p = DocProfile.from_json(r[3])
            if not p.title and r[2]:  # as the manifest does
                p = DocProfile(str(r[2]), p.parties, p.aliases, p.years)
            out[int(r[0])] = (str(r[1]), p)
        return out

    def page_text(self, doc_id: int, number: int) -> str:
        with self._tx() as conn:
            rows = conn.run("SELECT text FROM pages WHERE matter_id=:m AND doc_id=:d AND number=:n",
                            m=self.matter_id, d=int(doc_id), n=int(number))
        return str(rows[0][0]) if rows else ""

    def first_text(self, doc_id: int, chars: int = 2000) -> str:
        with self._tx() as conn:
            rows = conn.run("SELECT substr(text, 1, :c) FROM pages WHERE matter_id=:m AND doc_id=:d"
                            " ORDER BY number LIMIT 1", c=int(chars), m=self.matter_id, d=int(doc_id))
        return str(rows[0][0]) if rows else ""

    def first_texts(self, doc_ids: Sequence[int], chars: int = 2000) -> dict[int, str]:
        # One query, not one per document: a cold document finder read 50 one by one.
        wanted = [int(d) for d in doc_ids]
        with self._tx() as conn:
            rows = conn.run("SELECT DISTINCT ON (doc_id) doc_id, substr(text, 1, :c) FROM pages WHERE matter_id=:m"
                            " AND doc_id = ANY(CAST(:ds AS bigint[])) ORDER BY doc_id, number",
                            c=int(chars), m=self.matter_id, ds=wanted) if wanted else []
        got = {int(r[0]): str(r[1]) for r in rows}
        return {d: got.get(d, "") for d in wanted}

    def change_marker(self) -> str:
        with self._tx() as conn:
            return self.change_marker_in(conn)

    # -- passages ---------------------------------------------------------------------------
    _CHUNK_COLS = ('p.id, p.doc_id, p.ordinal, p.page, p.start, p."end", p.heading, p.text, d.name, d.path,'
                   " p.location")

    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, StoredChunk]:
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        with self._tx() as conn:
            rows = conn.run(f"SELECT {self._CHUNK_COLS} FROM passages p JOIN documents d ON d.id=p.doc_id"
                            " WHERE p.matter_id=:m AND p.id = ANY(CAST(:ids AS bigint[])) AND d.status=:s",
                            m=self.matter_id, ids=wanted, s=_READY)
        return {int(r[0]): StoredChunk(*r) for r in rows}

    def chunk_ids(self, doc_id: int) -> list[int]:
        with self._tx() as conn:
            rows = conn.run("SELECT id FROM passages WHERE matter_id=:m AND doc_id=:d", m=self.matter_id,
                            d=int(doc_id))
        return [int(r[0]) for r in rows]

    def count_chunks(self) -> int:
        with self._tx() as conn:
            return int(conn.run("SELECT count(*) FROM passages WHERE matter_id=:m", m=self.matter_id)[0][0])

    def embeddings(self, doc_id: int | None = None) -> Iterator[tuple[list[int], list[int], np.ndarray]]:
        # As text, parsed by numpy: pg8000 parses a real[] one Python float at a time
        # (0.17 s for one document's 46 vectors, against 4 ms).
        sql = "SELECT id, doc_id, CAST(embedding AS text) FROM passages WHERE matter_id=:m"
        args: dict[str, Any] = {"m": self.matter_id}
        if doc_id is not None:
            sql += " AND doc_id=:d"
            args["d"] = int(doc_id)
        with self._tx() as conn:
            rows = conn.run(sql + " ORDER BY id", **args)
        for i in range(0, len(rows), 1000):
            part = rows[i : i + 1000]
            flat = np.array(",".join(str(r[2])[1:-1] for r in part).split(","), dtype=np.float32)
            yield [int(r[0]) for r in part], [int(r[1]) for r in part], flat.reshape(len(part), -1)

    def keyword_search(
        self, query: str, k: int, doc_ids: Sequence[int] | None = None, common_share: float = 1.0
    ) -> list[tuple[int, float]]:
        if doc_ids is not None and not doc_ids:
            return []
        with self._tx() as conn:
            return keyword_candidates(conn, self.matter_id, query, k, doc_ids, common_share,
                                      self._word_cache(conn), self.ranking)

    def _word_cache(self, conn: Any) -> WordCache:
        state = self.change_marker_in(conn)
        if state != self._words_state:
            self._words, self._words_state = WordCache(), state
        return self._words

    def change_marker_in(self, conn: Any) -> str:
        """The marker, read once per transaction (a search asks for it three times)."""
        if self._marker_now is None:
            rows = conn.run("SELECT generation FROM matter_state WHERE matter_id=:m", m=self.matter_id)
            self._marker_now = str(rows[0][0]) if rows else ""
        return self._marker_now

    def _matter_vectors(self, conn: Any) -> MatterVectors | None:
        """(ids, doc ids, vectors, their norms) of the matter's passages, when
        there are at most ``memory_vectors`` of them; read as this user (row-level security),
        again whenever the matter changed."""
        state = self.change_marker_in(conn)
        if self._vectors is None or self._vectors[0] != state:
            got = None
            n = int(conn.run("SELECT count(*) FROM passages WHERE matter_id=:m", m=self.matter_id)[0][0])
            if n <= self.memory_vectors:
                got = matter_vectors(conn, self.matter_id)
            self._vectors = (state, got)
        return self._vectors[1]

    def prepare(self) -> None:
        """Read the matter's vectors and size now (a first search would): for a server
        warming a matter before its user asks."""
        with self._tx() as conn:
            if self.memory_vectors > 0:
                self._matter_vectors(conn)
            self._word_cache(conn).learn(conn, self.matter_id, [])

    def vector_search(self, vector: np.ndarray, k: int, doc_ids: Sequence[int] | None = None
                      ) -> list[tuple[int, float]]:
        if k <= 0 or (doc_ids is not None and not doc_ids):
            return []
        with self._tx() as conn:
            mem = self._matter_vectors(conn) if self.memory_vectors > 0 else None
            if mem is not None:
                return nearest(mem, vector, int(k), doc_ids)
            return indexed_nearest(conn, self.matter_id, vector, int(k), doc_ids, self.ef_search)

    def document_frequency(self, word: str) -> int:
        if not word.isalnum():
            return 0
        with self._tx() as conn:
            return int(conn.run(
                "SELECT count(DISTINCT p.doc_id) FROM passages p JOIN documents d ON d.id=p.doc_id WHERE"
                " p.matter_id=:m AND d.status=:s AND p.tsv @@ to_tsquery('english', :w)",
                m=self.matter_id, s=_READY, w=word.lower())[0][0])

    def distinct_headings(self) -> list[str]:
        with self._tx() as conn:
            rows = conn.run("SELECT DISTINCT heading FROM passages WHERE matter_id=:m AND heading != ''",
                            m=self.matter_id)
        return [str(r[0]) for r in rows]

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        with self._tx() as conn:
            # Letters and digits only, as keyword search takes them: safe in a tsquery.
            plain = [w.lower() for w in dict.fromkeys(words) if w.isalnum()]
            counts = self._word_cache(conn).learn(conn, self.matter_id, plain) if plain else {}
        # -1: an English stop word, which the index leaves out; SQLite's index holds it, so
        # it is not reported as missing here either.
        return [w for w in dict.fromkeys(words) if counts.get(w.lower(), 0) == 0]

    def close(self) -> None:
        """The connection is the caller's (a pool's) to close."""
