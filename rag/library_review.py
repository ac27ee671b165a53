"""Reviewing a library: one question per column over every document (or the chosen
ones), each cell a verified quote or "not stated"; saved grids and the reviewer's marks.

A mixin of :class:`rag.library.Library`, like :mod:`rag.library_questions`. The engine is
:mod:`rag.ask.review`; the cells, grids and marks are kept in the encrypted manifest
(:mod:`rag.store.grids`), and each mark is written to the audit log (ids and the kind of
mark only: the log is readable without the key, so no names and no text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rag.ask.quotes import QuoteConfig, QuotePicker
from rag.ask.retrieval import HybridRetriever
from rag.ask.review.cells import FOUND, CachingEmbedder, Cell, CellMaker, DecisionConfig
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewProgress, ReviewResult, run
from rag.ask.review.written import write_answers
from rag.cancel import CancelToken
from rag.privacy.audit import AuditLog
from rag.protocols import Embedder, Generator, OffsiteGenerator
from rag.store.grids import Grid, GridStore, Mark
from rag.store.manifest import Manifest
from rag.types import DocStatus, DocumentInfo

_GIVE_UP = 3  # cells in a row whose answer failed: the model (or its server) is not working


class Review:
    """Review grids over a library; needs its stores, embedder, retriever and audit log."""

    manifest: Manifest
    embedder: Embedder
    retriever: HybridRetriever
    audit: AuditLog
    read_only: bool
    refresh: Callable[[], None]
    documents: Callable[[], list[DocumentInfo]]
    _record_remote: Callable[[str, OffsiteGenerator, int], None]  # Library's (library_questions.py)

    review_config: DecisionConfig | None = None  # the decision's thresholds (benchmarks tune them)

    @property
    def grids(self) -> GridStore:
        return GridStore(self.manifest._db, self.manifest._lock, not self.read_only)

    def _cell_maker(self) -> CellMaker:
        emb = CachingEmbedder(self.embedder)
        # Its own retriever and quote picker over the caching embedder: the library's keep
        # serving questions asked meanwhile. The picker ranks a cell's sentences by the
        # question's words and their passage's rank, embedding none: embedding 16 sentences
        # per cell cost ~0.3 s of CPU on 2 cores, three times the budget of a whole cell
        # (the cell's decision uses the passage vectors stored at ingest instead).
        retriever = HybridRetriever(self.retriever.store, emb, self.retriever.config)
        picker = QuotePicker(emb, self.retriever.store.page_text, QuoteConfig(embed_max=0))
        return CellMaker(retriever, picker, emb, self.review_config)

    def review(
        self,
        columns: Sequence[Column],
        documents: Sequence[int] | None = None,
        *,
        on_cell: Callable[[Cell], None] | None = None,
        on_progress: Callable[[ReviewProgress], None] | None = None,
        cancel: CancelToken | None = None,
        answers: Generator | None = None,
        on_answer: Callable[[Cell], None] | None = None,
    ) -> ReviewResult:
        """Fill the grid ``documents`` (ids; default: every ready document) × ``columns``.
        Cells already computed for the same document content and question are read
        back; ``on_cell`` hears each cell as it is done; ``cancel`` stops between cells,
        keeping the cells done (``ReviewResult.cancelled``).

        With ``answers`` (a generator), once the grid is filled the model writes a short
        answer per found cell from its quotes, each sentence checked
        (:mod:`rag.ask.review.written`); ``on_answer`` hears every cell, in grid order, as
        its answer is done. A cell whose answer fails keeps its extractive one."""
        self.refresh()
        docs = [d for d in self.documents() if d.status is DocStatus.READY]
        if documents is not None:
            wanted = set(documents)
            docs = [d for d in docs if d.id in wanted]
        shas = self._shas()
        store = self.grids
        store.prune(set(shas.values()))  # removed documents take their cached quotes with them
        for c in columns:
            self.audit.record("review column", q=self.audit.question_hash(c.question))
        result = run(self._cell_maker(), store, docs, shas, list(columns), on_cell=on_cell,
                     on_progress=on_progress, cancel=cancel)
        self.audit.record("review", documents=len(docs), columns=len(columns), computed=result.computed,
                          cached=result.cached, stopped=result.cancelled)
        if answers is not None and not result.cancelled:
            self.write_answers(result, answers, on_answer=on_answer, cancel=cancel)
        return result

    def write_answers(self, result: ReviewResult, generator: Generator, *,
                      on_answer: Callable[[Cell], None] | None = None, cancel: CancelToken | None = None) -> int:
        """The model's short answers for a filled grid's found cells, cell by cell in grid
        order, put into ``result`` as each is done (so an interrupted run keeps them);
        returns how many were written. Not cached: they depend on the model, and cost
        seconds where a cell costs milliseconds. A model that fails cell after cell is
        given up on: the rest keep their extractive answers."""
        cancel = cancel or CancelToken()
        ordered = [c for d in result.documents for col in result.columns
                   if (c := result.cell(d.id, col.name)) is not None]
        written = failing = 0
        for cell in ordered:
            if cell.status == FOUND and failing < _GIVE_UP:
                with self._reporting(generator, cell.column.question):
                    got, stopped = write_answers([cell], generator, cancel=cancel)
                if stopped:
                    result.cancelled = True
                    break
                cell = got[0]
                result.cells[(cell.doc_id, cell.column.name)] = cell
                written += cell.written is not None
                failing = failing + 1 if cell.error else 0
            if on_answer is not None:
                on_answer(cell)
        self.audit.record("review answers", cells=len(ordered), written=written, stopped=result.cancelled,
                          backend=getattr(generator, "backend", ""))
        return written

    @contextmanager
    def _reporting(self, generator: Generator, question: str) -> Iterator[None]:
        """A server in the organisation: each prompt that leaves is in the audit log, as in ask."""
        if isinstance(generator, OffsiteGenerator):
            off = generator
            with off.reporting(lambda chars: self._record_remote(question, off, chars)):
                yield
        else:
            yield

    def _shas(self) -> dict[int, str]:
        with self.manifest._lock:
            rows = self.manifest._db.execute("SELECT id, sha256 FROM documents").fetchall()
        return {int(r[0]): str(r[1]) for r in rows}

    # -- saved grids and marks -------------------------------------------------------
    def save_grid(self, name: str, columns: Sequence[Column], documents: Sequence[str] | None = None) -> int:
        """Keep a grid's columns (and chosen documents' paths); returns its id. Editing a
        column's question recomputes that column only: the others are cached."""
        self.require_writable()
        gid = self.grids.save_grid(name, [(c.name, c.question) for c in columns],
                                   list(documents) if documents is not None else None)
        self.audit.record("review grid saved", grid=gid, columns=len(columns))
        return gid

    def saved_grid(self, name: str) -> Grid | None:
        return self.grids.grid(name)

    def delete_grid(self, grid_id: int) -> None:
        """Forget a saved grid: its columns and the reviewer's marks. Its cached cells stay
        (they belong to the documents and questions, and other grids may share them)."""
        self.require_writable()
        self.grids.delete_grid(grid_id)
        self.audit.record("review grid deleted", grid=grid_id)

    def mark_cell(self, grid_id: int, doc_id: int, column: str, mark: str, text: str = "", note: str = "") -> None:
        """Mark a cell verified, flagged or overwritten (with the reviewer's ``text``),
        with an optional ``note``; written to the audit log."""
        self.require_writable()
        path = {d.id: d.path for d in self.documents()}[doc_id]
        self.grids.set_mark(grid_id, Mark(path, column, mark, text, note))
        self.audit.record("review cell marked", grid=grid_id, doc=doc_id, mark=mark,
                          column=self.audit.question_hash(column))

    def clear_mark(self, grid_id: int, doc_id: int, column: str) -> None:
        self.require_writable()
        path = {d.id: d.path for d in self.documents()}[doc_id]
        self.grids.clear_mark(grid_id, path, column)
        self.audit.record("review mark cleared", grid=grid_id, doc=doc_id, column=self.audit.question_hash(column))

    def marks(self, grid_id: int) -> dict[tuple[int, str], Mark]:
        """The grid's marks by (doc id, column name), for documents still in the library."""
        ids = {d.path: d.id for d in self.documents()}
        return {(ids[m.path], m.column): m for m in self.grids.marks(grid_id).values() if m.path in ids}

    def require_writable(self) -> None:  # Library's; declared for the type checker
        raise NotImplementedError
