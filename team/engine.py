"""The engine behind the routes: the same retrieval and quoting as a laptop's library,
over one matter of the PostgreSQL store, inside the request's transaction.

A :class:`rag.store.postgres.store.PostgresStore` is kept per (matter, user) with its caches
(word counts, the matter's vectors, the document finder's profiles); each request's reads
run in that request's own transaction, which the gate (team/access.py) opened as the user
after checking membership, so row-level security applies to every query the store makes
and a search costs no transaction of its own. The embedder is loaded once and shared, its
questions encoded in batches (team/encoder.py).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from rag.ask.quotes import QuotePicker, topic_words
from rag.ask.retrieval import HybridRetriever, RetrievalConfig
from rag.library_questions import Gate as AnswerGate
from rag.protocols import Embedder
from rag.types import Passage, Quote
from team.access import MatterSession, member_of, my_matters
from team.accounts import User
from team.db import Pool
from team.encoder import BatchingEmbedder, UserQueries


def limit_threads(threads: int) -> None:
    """Threads of one encode (torch) and of one matrix product (BLAS), for the whole process:
    the server's, where many requests at once already use every core. Their own threads
    spin-wait for cores the other requests hold: with two on two busy cores, a question's
    encode cost 70-450 ms of CPU against 10 ms with one, and the server's CPU per search
    went from 11 to 44 ms once searches multiplied vectors in numpy."""
    import threadpoolctl
    import torch

    torch.set_num_threads(threads)
    threadpoolctl.threadpool_limits(limits=threads)


log = logging.getLogger("docqa.server")


class _Worker:
    """One matter as one user: the store and the retriever over it (their caches kept
    between requests), used by one request at a time, inside that request's transaction."""

    def __init__(self, store: Any, embedder: UserQueries, retriever: HybridRetriever) -> None:
        self.store, self.embedder, self.retriever = store, embedder, retriever
        self.lock = threading.Lock()


class Engine:
    def __init__(self, embedder: Embedder | None = None, retrieval: RetrievalConfig | None = None,
                 max_workers: int = 64, threads: int = 0) -> None:
        if embedder is None:
            if threads > 0:
                limit_threads(threads)
            from rag.models.embedder import SentenceTransformerEmbedder

            loaded = SentenceTransformerEmbedder()
            loaded.warm_up()
            embedder = loaded
        self.embedder = embedder if isinstance(embedder, BatchingEmbedder) else BatchingEmbedder(embedder)
        self.retrieval = retrieval or RetrievalConfig()
        self.answer_gate = AnswerGate()
        self.max_workers = max_workers
        self._workers: OrderedDict[tuple[int, int], _Worker] = OrderedDict()
        self._lock = threading.Lock()
        # One thread warms the matters of users who just signed in (``warm_soon``).
        self._warming = ThreadPoolExecutor(1, thread_name_prefix="docqa-warm")

    def open_store(self, conn: Any, matter_id: int, user_id: int) -> Any:
        """A matter's store as a user, over ``conn`` (the store runs its own transactions,
        each as that user: row-level security applies to every one); ``conn`` None for one
        that only ever runs inside a request's transaction (``within``)."""
        from rag.store.postgres.store import PostgresStore

        return PostgresStore(conn, matter_id, user_id)

    @contextmanager
    def worker(self, s: MatterSession) -> Iterator[_Worker]:
        """The matter's store and retriever for this user, used by one request at a time,
        inside the request's transaction (``s.db``: opened by the gate as ``s.user``, so
        the store reads as that user). Only ever reached through the gate (the session
        proves membership was checked in this request); a worker that failed is dropped
        with its caches."""
        key = (s.matter_id, s.user.id)
        with self._lock:
            w = self._workers.pop(key, None)
            if w is not None:
                self._workers[key] = w
        if w is None:
            store = self.open_store(None, s.matter_id, s.user.id)
            queries = UserQueries(self.embedder)
            w = _Worker(store, queries, HybridRetriever(store, queries, self.retrieval))
            with self._lock:
                self._workers[key] = w
                while len(self._workers) > self.max_workers:
                    self._workers.popitem(last=False)
        with w.lock, w.store.within(s.db):
            try:
                yield w
            except Exception:
                with self._lock:
                    if self._workers.get(key) is w:
                        del self._workers[key]
                raise

    def close(self) -> None:
        self._warming.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._workers = OrderedDict()

    def warm_soon(self, pool: Pool, user: User, most: int = 8) -> None:
        """Read, in the background, what the first search in each of ``user``'s matters
        would (their vectors, profiles and headings' vectors), so that it is answered as fast
        as the next: a user signs in, then opens a matter and asks. A first search in a
        matter of 2,000 passages cost 70 ms alone, and 20 users starting at once queued for
        over a second. Nothing is shown to anyone, so nothing is audited; it reads as the
        user, after the same membership check as the gate's, under row-level security."""
        try:
            self._warming.submit(self._warm, pool, user, most)
        except RuntimeError:  # shut down
            pass

    def _warm(self, pool: Pool, user: User, most: int) -> None:
        try:
            with pool.transaction(user.id) as db:
                names = my_matters(db, user.id)[:most]
            for name in names:
                with pool.transaction(user.id) as db:
                    matter_id = member_of(db, user.id, name)
                    if matter_id is None:
                        continue
                    with self.worker(MatterSession(db, user, name, matter_id, "warm")) as w:
                        w.store.prepare()
                        w.retriever.prepare()
        except Exception:  # a warm-up that fails costs the first search its speed, nothing else
            log.warning("could not warm %s's matters", user.name, exc_info=True)

    def search(self, s: MatterSession, query: str, k: int, documents: Sequence[int] | None = None) -> list[Passage]:
        with self.worker(s) as w:
            return w.retriever.search(query, k, documents)

    def quotes(self, s: MatterSession, question: str, k: int,
               documents: Sequence[int] | None = None) -> tuple[list[Quote], list[Passage]]:
        """The quotes ``docqa ask`` shows first (rag/library_questions.py: quotes_first),
        and the passages they come from; no quotes when the matter does not answer it."""
        with self.worker(s) as w:
            passages = w.retriever.search(question, k, documents)
            if not passages:
                return [], []
            picker = QuotePicker(w.embedder, w.store.page_text)
            named, rest = w.retriever.find_documents(question)
            focus = rest if named and rest.strip() else question
            picked, rel = picker.pick(focus, passages)
            if focus != question:
                whole = picker.pick(question, passages)
                if whole[1].score > rel.score:
                    picked, rel = whole
            unknown = w.store.unknown_words(topic_words(focus))
        return (picked if self.answer_gate.admits(rel, unknown) else []), passages

    def review(self, s: MatterSession, columns: Sequence[str], documents: Sequence[int] | None
               ) -> tuple[list[dict[str, Any]], list[int]]:
        """A review grid (rag/ask/review): one cell per document and column, each a verified
        quote or "not stated", as the desktop's Review view makes it over a local library.
        Returns the rows and the passage ids its quotes come from."""
        from rag.ask.quotes import QuoteConfig
        from rag.ask.review.cells import CachingEmbedder, CellMaker
        from rag.ask.review.columns import Column

        cols = [Column.parse(c) for c in columns]
        docs = {d["id"]: d["name"] for d in self.documents(s) if d["status"] == "ready"}
        chosen = [d for d in (documents if documents is not None else docs) if d in docs]
        rows, shown = [], []
        with self.worker(s) as w:
            emb = CachingEmbedder(self.embedder)
            maker = CellMaker(HybridRetriever(w.store, emb, self.retrieval),
                              QuotePicker(emb, w.store.page_text, QuoteConfig(embed_max=0)), emb)
            for d in chosen:
                cells = [maker.cell(d, c) for c in cols]
                shown += [q.passage.chunk_id for c in cells for q in c.quotes]
                rows.append({"doc_id": d, "file": docs[d], "cells": [c.to_json(docs[d]) for c in cells]})
        return rows, sorted(set(shown))

    def documents(self, s: MatterSession) -> list[dict[str, Any]]:
        rows = s.db.run("SELECT id, name, kind, pages, status, error, parent_id, added_at FROM documents "
                        "WHERE matter_id = :m ORDER BY name, id", m=s.matter_id)
        return [{"id": int(r[0]), "name": r[1], "kind": r[2], "pages": int(r[3]), "status": r[4],
                 "error": r[5], "parent_id": r[6], "added_at": float(r[7] or 0)} for r in rows]

    def page(self, s: MatterSession, doc_id: int, number: int) -> str | None:
        rows = s.db.run("SELECT text FROM pages WHERE matter_id = :m AND doc_id = :d AND number = :n",
                        m=s.matter_id, d=doc_id, n=number)
        return str(rows[0][0]) if rows else None

