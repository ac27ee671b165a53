"""The server's one embedder, shared by every request thread.

Questions that arrive while an encode runs are encoded together in the next one: on two
cores MiniLM encodes one short question in about 10 ms and eight in about 19 ms, so
under load a question costs a quarter of the CPU it would alone, and at rest (nothing
waiting) it is encoded at once, as before. Encodes never overlap (two at once on two
busy cores run slower than one after the other).

Nothing is remembered across requests here: a cache shared by all users would let one
user time whether another asked the same question lately (a hit answers ~10 ms
sooner), across an ethical wall. :class:`UserQueries` remembers a few questions per
(matter, user) worker instead: the quote path embeds its question twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from rag.protocols import Embedder


class _Slot:
    __slots__ = ("text", "vector", "error")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None


class BatchingEmbedder:
    """``inner`` behind one lock, with waiting questions encoded in batches."""

    def __init__(self, inner: Embedder, max_batch: int = 16) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "")
        self.dimension = int(inner.dimension)  # 0 until a lazy model loads: set again after each encode
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._busy = False  # an encode is running
        self._waiting: list[_Slot] = []
        self.batches = 0  # encodes of questions run, and the questions in them (the tests read them)
        self.questions = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (an upload's): one encode of their own, between the questions' batches."""
        with self._cond:
            while self._busy:
                self._cond.wait()
            self._busy = True
        try:
            vecs = self.inner.embed(texts)
            self.dimension = int(self.inner.dimension)
            return vecs
        finally:
            self._release()

    def embed_query(self, text: str) -> np.ndarray:
        slot = _Slot(text)
        with self._cond:
            self._waiting.append(slot)
        while True:
            with self._cond:
                while self._busy and slot.vector is None and slot.error is None:
                    self._cond.wait()
                if slot.error is not None:
                    raise slot.error
                if slot.vector is not None:
                    return slot.vector
                # Nobody is encoding and this question still waits: encode the waiting ones.
                batch = self._waiting[: self.max_batch]
                del self._waiting[: len(batch)]
                self._busy = True
            try:
                # The inner embedder's own question cache is skipped (see the module's docstring).
                vecs = self.inner.embed([s.text for s in batch])
                for s, v in zip(batch, vecs, strict=True):
                    s.vector = np.asarray(v, dtype=np.float32)
                self.dimension = int(self.inner.dimension)
                self.batches += 1
                self.questions += len(batch)
            except BaseException as err:
                for s in batch:
                    s.error = err
            finally:
                self._release()

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()


class UserQueries:
    """A few questions' vectors, for one (matter, user) worker only."""

    def __init__(self, inner: BatchingEmbedder, size: int = 16) -> None:
        self.inner = inner
        self.name = inner.name
        self._size = size
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @dimension.setter
    def dimension(self, value: int) -> None:  # the Embedder protocol's attribute; the inner one's counts
        pass

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray:
        got = self._recent.get(text)
        if got is None:
            got = self._recent[text] = self.inner.embed_query(text)
            while len(self._recent) > self._size:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(text)
        return got
