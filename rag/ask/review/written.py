"""Short answers written by the model for a filled grid, each sentence checked.

The grid is complete without a model: every found cell has an extractive answer read off
its quote. Asked for (``docqa review --answers``), the model then writes, cell by cell
after the grid is filled, one short sentence (about 25 words) from that cell's quotes
only; the sentence checker judges it as it judges any answer, and a sentence it cannot
back is shown marked ("[check]"), never as fact. A cell whose answer fails (the model
errs, writes nothing, or only repeats the question) keeps its extractive answer; cancel
stops between cells, keeping the answers written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rag.ask.answer import NOT_FOUND, NOT_STATED, settle
from rag.ask.checker import check_answer, ground_uncited
from rag.cancel import CancelToken
from rag.protocols import Generator
from rag.types import Quote, SentenceCheck, Support

if TYPE_CHECKING:  # cells.py holds a Written: imported there, not here
    from rag.ask.review.cells import Cell

WORDS = 25  # the answer's length the prompt asks for
MAX_TOKENS = 64  # room for ~25 words and a citation; a model that rambles is cut here
QUOTE_TOKENS = 900  # of the cell's quotes in the prompt: ~1 s of prompt on a 2-core CPU

SYSTEM_PROMPT = (
    f"Answer the question in one short sentence of at most {WORDS} words, using only the "
    "numbered quotes. Copy names, numbers, dates and places exactly as the quote writes them, "
    "and end the sentence with the number of its quote, like [1]."
)

_MARKS = {Support.UNSUPPORTED: "check", Support.CONTRADICTED: "contradicted"}


@dataclass(frozen=True)
class Written:
    """The model's answer to one cell and the checker's verdict on each sentence."""

    text: str
    checks: tuple[SentenceCheck, ...]
    backend: str

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.verdict is Support.SUPPORTED for c in self.checks)

    def marked(self) -> str:
        """The text with each sentence the sources do not back marked, as ``ask`` marks it:
        "... [check]" (not found in the quotes), "... [contradicted: [1] says ...]"."""
        out, last = [], 0
        for c in self.checks:
            if c.verdict is Support.SUPPORTED:
                continue
            tag = _MARKS[c.verdict] + (f": {c.reason}" if c.verdict is Support.CONTRADICTED else "")
            out.append(self.text[last:c.end] + f" [{tag}]")
            last = c.end
        out.append(self.text[last:])
        return "".join(out).strip()

    def to_json(self) -> dict[str, object]:
        return {"answer": self.text, "verified": self.verified, "backend": self.backend,
                "sentences": [c.to_json() for c in self.checks]}


def prompt_quotes(generator: Generator, quotes: Sequence[Quote], tokens: int = QUOTE_TOKENS) -> list[Quote]:
    """The cell's best quotes (they come best first) that fit ``tokens``; at least one."""
    kept: list[Quote] = []
    for q in quotes:
        tokens -= generator.count_tokens(q.text) + 8
        if tokens < 0 and kept:
            break
        kept.append(q)
    return kept


def user_prompt(question: str, quotes: Sequence[Quote]) -> str:
    """The quotes numbered by their place in the cell (1, 2, ...), as a reviewer sees them."""
    lines = [f"[{i}] \u201c{' '.join(q.text.split())}\u201d" for i, q in enumerate(quotes, 1)]
    return "Quotes:\n" + "\n".join(lines) + f"\n\nQuestion: {question.strip()}"


def write(question: str, quotes: Sequence[Quote], generator: Generator, cancel: CancelToken) -> Written | None:
    """The model's short answer from a cell's ``quotes``, checked against them (a sentence's
    sources are places in the cell's quote list, from 1); None when it wrote nothing worth
    showing (a bare yes/no, the question repeated) or was cancelled."""
    shown = prompt_quotes(generator, quotes)
    if not shown:
        return None
    text = "".join(generator.stream(SYSTEM_PROMPT, user_prompt(question, shown), MAX_TOKENS, cancel)).strip()
    if cancel.is_set:
        return None
    texts = [q.text for q in shown]
    text = ground_uncited(_first_sentences(text), texts)  # a forgotten [n] where the wording shows it
    text = settle(text, shown, question)
    if text in (NOT_STATED, NOT_FOUND):
        return None
    checks = check_answer(text, {i: t for i, t in enumerate(texts, 1)})
    return Written(text, tuple(checks), getattr(generator, "backend", ""))


def _first_sentences(text: str) -> str:
    """About ``WORDS`` words: whole sentences while they fit (a small model may go on)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\[])", " ".join(text.split()))
    out: list[str] = []
    for p in parts:
        if out and len(" ".join([*out, p]).split()) > WORDS + 5:
            break
        out.append(p)
    return " ".join(out).strip()


def write_answers(
    cells: Sequence[Cell],
    generator: Generator,
    *,
    on_cell: Callable[[Cell], None] | None = None,
    cancel: CancelToken | None = None,
) -> tuple[list[Cell], bool]:
    """``cells`` with the model's answers added to the found ones, in order, and whether
    it was cancelled (then the cells not reached are left out). ``on_cell`` hears every
    cell as it is done, not found ones at once."""
    from rag.ask.review.cells import FOUND

    cancel = cancel or CancelToken()
    out: list[Cell] = []
    for cell in cells:
        if cancel.is_set:
            return out, True
        written = None
        if cell.status == FOUND and cell.quotes:
            try:
                written = write(cell.column.question, cell.quotes, generator, cancel)
            except Exception as err:  # noqa: BLE001 (the cell keeps its extractive answer)
                cell = replace(cell, error=f"answer not written: {str(err)[:160]}")
            if cancel.is_set:
                return out, True
        if written is not None:
            cell = replace(cell, written=written)
        out.append(cell)
        if on_cell is not None:
            on_cell(cell)
    return out, False
