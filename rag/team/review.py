"""Review grids over a team matter: the server fills each row (rag/ask/review, next to
the matter's data, every quote it shows audited there). The grids, columns and marks a
reviewer makes in a session are kept in memory on this computer, as a read-only local
library keeps them: a team matter has no copy here.

A mixin of :class:`rag.team.matter.TeamMatter`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from rag.ask.review.cells import FAILED, Cell
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewProgress, ReviewResult
from rag.cancel import CancelToken
from rag.protocols import Generator
from rag.store.grids import GRID_SCHEMA, Grid, GridStore, Mark
from rag.team.client import TeamClient, TeamError
from rag.types import DocStatus, DocumentInfo, Passage, Quote


def _quote(d: dict[str, Any], doc_id: int) -> Quote:
    location = str(d.get("location") or "")
    page = int(d.get("page") or 0)
    passage = Passage(str(d["file"]), page, int(d["start"]), int(d["end"]), str(d["text"]), 0.0, doc_id=doc_id,
                      where="" if location == f"page {page}" else location)
    return Quote(int(d.get("n") or 1), passage, int(d["start"]), int(d["end"]), str(d["text"]))


def cell_from(d: dict[str, Any], doc_id: int, column: Column) -> Cell:
    """A cell as the server sends it (``Cell.to_json``)."""
    quotes = [_quote(q, doc_id) for q in d.get("quotes") or []]
    return Cell(doc_id, column, str(d["status"]), str(d.get("answer") or ""), quotes, 0.0, bool(quotes))


class TeamReview:
    client: TeamClient
    matter: str
    _grid_store: GridStore | None = None

    def documents(self) -> list[DocumentInfo]:  # TeamMatter's; declared for the type checker
        raise NotImplementedError

    def fetch_documents(self) -> list[DocumentInfo]:  # TeamMatter's
        raise NotImplementedError

    @property
    def grids(self) -> GridStore:
        if self._grid_store is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.executescript(GRID_SCHEMA)
            self._grid_store = GridStore(db, threading.RLock(), writable=True)
        return self._grid_store

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
        """The grid ``documents`` × ``columns``, a row per request (Cancel stops between
        rows, keeping those done). The model's written answers are not offered for team
        matters yet: each cell keeps its extractive answer."""
        docs = [d for d in self.fetch_documents() if d.status is DocStatus.READY]  # as the server has them now
        if documents is not None:
            wanted = set(documents)
            docs = [d for d in docs if d.id in wanted]
        cols = list(columns)
        result = ReviewResult(docs, cols)
        specs = [f"{c.name}={c.question}" for c in cols]
        started = time.monotonic()
        for i, d in enumerate(docs):
            if cancel is not None and cancel.is_set:
                result.cancelled = True
                break
            try:
                rows = self.client.review(self.matter, specs, [d.id])
                row = rows[0]["cells"] if rows else []
                cells = [cell_from(cj, d.id, c) for cj, c in zip(row, cols, strict=True)]
            except TeamError as err:
                if err.signed_out or err.status == 404:
                    raise
                cells = [Cell(d.id, c, FAILED, "", [], 0.0, False, error=str(err)) for c in cols]
            for cell in cells:
                result.cells[(d.id, cell.column.name)] = cell
                if on_cell is not None:
                    on_cell(cell)
            result.computed += len(cells)
            if on_progress is not None:
                on_progress(ReviewProgress((i + 1) * len(cols), len(docs) * len(cols), result.computed,
                                           time.monotonic() - started))
        return result

    # -- this session's grids and marks (in memory) --------------------------------------
    def save_grid(self, name: str, columns: Sequence[Column], documents: Sequence[str] | None = None) -> int:
        return self.grids.save_grid(name, [(c.name, c.question) for c in columns],
                                    list(documents) if documents is not None else None)

    def saved_grid(self, name: str) -> Grid | None:
        return self.grids.grid(name)

    def delete_grid(self, grid_id: int) -> None:
        self.grids.delete_grid(grid_id)

    def _names(self) -> dict[int, str]:
        return {d.id: d.name for d in self.documents()}

    def mark_cell(self, grid_id: int, doc_id: int, column: str, mark: str, text: str = "", note: str = "") -> None:
        self.grids.set_mark(grid_id, Mark(self._names()[doc_id], column, mark, text, note))

    def clear_mark(self, grid_id: int, doc_id: int, column: str) -> None:
        self.grids.clear_mark(grid_id, self._names()[doc_id], column)

    def marks(self, grid_id: int) -> dict[tuple[int, str], Mark]:
        ids = {name: i for i, name in self._names().items()}
        return {(ids[m.path], m.column): m for m in self.grids.marks(grid_id).values() if m.path in ids}
