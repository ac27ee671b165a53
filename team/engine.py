"""The engine behind the routes: the same retrieval and quoting as a laptop's library,
over one matter of the PostgreSQL store, inside the request's transaction.

A :class:`rag.store.postgres.PostgresStore` is made per request around the transaction's
connection (row-level security already set to the user), so the store reads nothing the
user may not. The embedder is loaded once and shared; encoding is serialised (two cores
run one encode faster than two at once).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.ask.quotes import QuotePicker
from rag.ask.retrieval import HybridRetriever, RetrievalConfig
from rag.library_questions import Gate as AnswerGate
from rag.protocols import Embedder
from rag.types import Passage, Quote
from team.access import MatterSession


class SerialEmbedder:
    """An embedder shared by the server's threads, one encode at a time."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.dimension = inner.dimension
        self.name = inner.name
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return self.inner.embed_query(text)


class Engine:
    def __init__(self, embedder: Embedder | None = None, retrieval: RetrievalConfig | None = None) -> None:
        if embedder is None:
            from rag.models.embedder import SentenceTransformerEmbedder

            loaded = SentenceTransformerEmbedder()
            loaded.warm_up()
            embedder = loaded
        self.embedder = embedder if isinstance(embedder, SerialEmbedder) else SerialEmbedder(embedder)
        self.retrieval = retrieval or RetrievalConfig()
        self.answer_gate = AnswerGate()

    def open_store(self, db: Any, matter_id: int) -> Any:
        """The store of one matter over ``db``, a connection in a transaction as the user."""
        from rag.store.postgres.store import PostgresStore

        return PostgresStore(db, matter_id)

    def store(self, s: MatterSession) -> Any:
        return self.open_store(s.db, s.matter_id)

    def _retriever(self, store: Any) -> HybridRetriever:
        return HybridRetriever(store, self.embedder, self.retrieval)

    def search(self, s: MatterSession, query: str, k: int, documents: Sequence[int] | None = None) -> list[Passage]:
        return self._retriever(self.store(s)).search(query, k, documents)

    def quotes(self, s: MatterSession, question: str, k: int,
               documents: Sequence[int] | None = None) -> tuple[list[Quote], list[Passage]]:
        """The quotes ``docqa ask`` shows first (rag/library_questions.py: quotes_first),
        and the passages they come from; no quotes when the matter does not answer it."""
        store = self.store(s)
        retriever = self._retriever(store)
        passages = retriever.search(question, k, documents)
        if not passages:
            return [], []
        picker = QuotePicker(self.embedder, store.page_text)
        named, rest = retriever.find_documents(question)
        focus = rest if named and rest.strip() else question
        picked, rel = picker.pick(focus, passages)
        if focus != question:
            whole = picker.pick(question, passages)
            if whole[1].score > rel.score:
                picked, rel = whole
        from rag.ask.quotes import topic_words

        known = getattr(store, "unknown_words", None)
        unknown = known(topic_words(focus)) if known is not None else []
        return (picked if self.answer_gate.admits(rel, unknown) else []), passages

    def documents(self, s: MatterSession) -> list[dict[str, Any]]:
        rows = s.db.run("SELECT id, name, kind, pages, status, error, parent_id FROM documents "
                        "WHERE matter_id = :m ORDER BY name, id", m=s.matter_id)
        return [{"id": int(r[0]), "name": r[1], "kind": r[2], "pages": int(r[3]), "status": r[4],
                 "error": r[5], "parent_id": r[6]} for r in rows]

    def page(self, s: MatterSession, doc_id: int, number: int) -> str | None:
        rows = s.db.run("SELECT text FROM pages WHERE matter_id = :m AND doc_id = :d AND number = :n",
                        m=s.matter_id, d=doc_id, n=number)
        return str(rows[0][0]) if rows else None
