"""What one document says about a column, measured on the document itself: the evidence
a cell's found / not-stated decision weighs besides its best quote.

A score alone cannot say "this document does not state it": one contract's passages all
score higher against any question than another's (its language, its length), and the
nearest clause about competition in a contract without a non-compete scores like a real
one. So the cell's best passage is also measured against the document's own passages
(how far above their spread it stands), and the document is read for the ways a clause
of the kind is written when it is there: its *strong* wordings ("shall not assign ...
without the prior written consent", "in no event shall ... liability exceed") and a
section heading that names it ("Assignment", "Limitation of Liability"). All of it comes
from the document and the question alone, so a cached cell stays right when other
documents come and go.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.protocols import Store


@dataclass(frozen=True)
class DocText:
    """A document's passages: chunk id -> (text with its spacing flattened, heading)."""

    passages: dict[int, tuple[str, str]]


class DocTexts:
    """Passages of the last few documents read: a grid's row asks every column of one."""

    def __init__(self, store: Store, size: int = 8) -> None:
        self.store = store
        self._docs: OrderedDict[int, DocText] = OrderedDict()
        self._size = size

    def get(self, doc_id: int) -> DocText:
        got = self._docs.get(doc_id)
        if got is None:
            chunks = self.store.chunks_by_id(self.store.chunk_ids(doc_id))
            got = DocText({c.id: (" ".join(c.text.split()), c.heading) for c in chunks.values()})
            self._docs[doc_id] = got
            while len(self._docs) > self._size:
                self._docs.popitem(last=False)
        else:
            self._docs.move_to_end(doc_id)
        return got


def standing(score: float, sims: dict[int, float]) -> tuple[float, float]:
    """(z, top gap): how many standard deviations ``score`` stands above the mean of the
    document's passages' cosines, and how far below the document's best passage it is."""
    if not sims:
        return 0.0, 0.0
    vals = np.fromiter(sims.values(), dtype=np.float32)
    sd = float(vals.std()) or 1.0
    return (score - float(vals.mean())) / sd, float(vals.max()) - score


def count(pattern: re.Pattern[str] | None, doc: DocText, headings: bool = False) -> int:
    """Passages of ``doc`` whose text (or heading) the pattern finds."""
    if pattern is None:
        return 0
    return sum(1 for text, heading in doc.passages.values() if pattern.search(heading if headings else text))
