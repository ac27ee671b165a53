"""Filling a review grid: every chosen document × every column, a cell at a time, each
reported as it is done; cached cells read back, the others computed; cancel keeps what
is done.

Rows run one after the other, each row's columns together: a document's passages, vectors
and sentence embeddings are read once and reused by its next column. Cells are computed
on one thread: the embedder already uses every core for a batch, and on the 2-core
machine two threads took longer per cell than one (tests/bench/grid_eval.py --workers 2).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.ask.review.cells import FAILED, Cell, CellMaker
from rag.ask.review.columns import Column
from rag.cancel import CancelToken
from rag.store.grids import GridStore
from rag.types import DocumentInfo, Passage, Quote

ENGINE = "review-4"  # bump when a cell's computation changes: cached cells are then recomputed


@dataclass(frozen=True)
class ReviewProgress:
    done: int
    total: int
    computed: int  # of ``done``, how many were computed rather than read from the cache
    seconds: float

    @property
    def eta(self) -> float:
        """Seconds left, from the pace of the cells computed so far (cached ones cost nothing)."""
        left = self.total - self.done
        if not left or not self.computed:
            return 0.0
        return self.seconds / self.computed * left


@dataclass
class ReviewResult:
    documents: list[DocumentInfo]
    columns: list[Column]
    cells: dict[tuple[int, str], Cell] = field(default_factory=dict)  # (doc id, column name)
    computed: int = 0
    cached: int = 0
    cancelled: bool = False

    def cell(self, doc_id: int, column: str) -> Cell | None:
        return self.cells.get((doc_id, column))


def engine_version(maker: CellMaker) -> str:
    """The engine's version with its decision settings: a tuned threshold recomputes."""
    return ENGINE + "-" + hashlib.sha1(repr(maker.config).encode()).hexdigest()[:8]


def run(
    maker: CellMaker,
    store: GridStore,
    documents: Sequence[DocumentInfo],
    shas: dict[int, str],
    columns: Sequence[Column],
    *,
    on_cell: Callable[[Cell], None] | None = None,
    on_progress: Callable[[ReviewProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> ReviewResult:
    result = ReviewResult(list(documents), list(columns))
    engine = engine_version(maker)
    total = len(documents) * len(columns)
    t0 = time.perf_counter()
    spent = 0.0
    for doc in documents:
        for column in columns:
            if cancel is not None and cancel.is_set:
                result.cancelled = True
                return result
            sha = shas.get(doc.id, "")
            got = store.cached(sha, column.question, engine)
            if got is not None:
                cell = cell_from_cache(doc, column, got)
                result.cached += 1
            else:
                t1 = time.perf_counter()
                try:
                    cell = maker.cell(doc.id, column)
                except Exception as err:  # noqa: BLE001 (one cell failing leaves the grid going)
                    cell = Cell(doc.id, column, FAILED, "", [], 0.0, False, error=str(err)[:200])
                else:
                    store.put(sha, column.question, engine, cell_to_cache(cell))
                spent += time.perf_counter() - t1
                result.computed += 1
            result.cells[(doc.id, column.name)] = cell
            if on_cell is not None:
                on_cell(cell)
            if on_progress is not None:
                done = result.computed + result.cached
                on_progress(ReviewProgress(done, total, result.computed, spent or time.perf_counter() - t0))
    return result


def cell_to_cache(cell: Cell) -> dict[str, Any]:
    quotes = [{"n": q.n, "page": q.passage.page, "start": q.start, "end": q.end, "text": q.text,
               "score": q.score, "p_start": q.passage.start, "p_end": q.passage.end,
               "heading": q.passage.heading, "where": q.passage.where,
               # A table's quote is located by its rows within the passage: kept for those only.
               "p_text": q.passage.text if q.passage.where else ""} for q in cell.quotes]
    return {"status": cell.status, "answer": cell.answer, "quotes": quotes, "score": cell.score, "cue": cell.cue}


def cell_from_cache(doc: DocumentInfo, column: Column, got: dict[str, Any]) -> Cell:
    """A cached cell, its quotes placed in the document as it is named now (it may have
    moved: same content, another path)."""
    quotes = [Quote(q["n"], Passage(doc.name, q["page"], q["p_start"], q["p_end"], q.get("p_text", ""), q["score"], doc.id,
                                    heading=q["heading"], path=doc.path, where=q["where"]),
                    q["start"], q["end"], q["text"], q["score"]) for q in got["quotes"]]
    return Cell(doc.id, column, got["status"], got["answer"], quotes, float(got["score"]), bool(got["cue"]))
