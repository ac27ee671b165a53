"""Keeping the vector index (``index/``, Chroma) trustworthy: it is derived from the
manifest, so when it is damaged it is rebuilt from the manifest's stored vectors, never
trusted, and a rebuild never leaves the library without an index.

Chroma's storage is Rust over SQLite; a damaged page makes it *panic*, which reaches
Python as pyo3's ``PanicException``, a ``BaseException`` that ``except Exception`` misses.
:class:`GuardedIndex` catches any failure of the index (that exception included), has
it repaired, and retries once.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from rag.protocols import VectorIndex
from rag.store.atomic import fsync_dir
from rag.store.vectors import ChromaIndex

INDEX_DIR = "index"
NEW_DIR = "index.new"  # a rebuild in progress; swapped in only when complete
OLD_DIR = "index.old"  # the index being replaced; removed once the new one is in place
CHROMA_FILE = "chroma.sqlite3"
DAMAGED = "The search index was damaged and has been rebuilt from the library ({n})."
MISSING = "The search index was missing and has been rebuilt from the library ({n})."


def passages(n: int) -> str:
    return f"{n:,} passage" + ("" if n == 1 else "s")

T = TypeVar("T")


def is_failure(err: BaseException) -> bool:
    """Whether ``err``, raised inside the index, means the index cannot be trusted: any
    error, a Rust panic included, but not a request to stop or a lack of memory."""
    if isinstance(err, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
        return False
    return isinstance(err, Exception) or type(err).__name__ == "PanicException"


def sound(folder: Path) -> bool:
    """Whether the index's SQLite file passes ``PRAGMA quick_check`` (a missing file
    passes: Chroma makes a new one). Damage that Chroma only meets later (a page read by
    one query and not another) is found here at open, in a few milliseconds per MB."""
    path = folder / CHROMA_FILE
    if not path.exists():
        return True
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return False
    return rows == [("ok",)]


def tidy(root: Path) -> None:
    """Finish or undo a rebuild a kill interrupted (called with the write lock held).
    ``index.old`` without ``index/`` means the kill came between the two renames, after
    ``index.new`` was complete; any other leftover is an unfinished copy."""
    cur, new, old = root / INDEX_DIR, root / NEW_DIR, root / OLD_DIR
    if not cur.exists() and new.exists() and old.exists():
        os.replace(new, cur)
        fsync_dir(root)
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


def rebuild(root: Path, vectors: Iterable[tuple[list[int], list[int], np.ndarray]]) -> int:
    """Write a new index from ``vectors`` beside the old one, then swap it in: a failed
    or killed rebuild leaves the old ``index/`` as it was. Returns the passages written.
    A fresh folder also drops the HNSW segments of an index rebuilt in place, which kept
    the vectors of removed documents on disk."""
    new = root / NEW_DIR
    shutil.rmtree(new, ignore_errors=True)
    index = ChromaIndex(new)
    n = 0
    try:
        for ids, docs, vecs in vectors:
            index.add(ids, vecs, docs)
            n += len(ids)
        index.count()  # an empty library still gets its (empty) collection
    finally:
        index.close()
    fsync_dir(new)
    cur, old = root / INDEX_DIR, root / OLD_DIR
    shutil.rmtree(old, ignore_errors=True)
    if cur.exists():
        os.replace(cur, old)
    os.replace(new, cur)
    fsync_dir(root)
    shutil.rmtree(old, ignore_errors=True)
    return n


class GuardedIndex:
    """A vector index that is repaired when it fails: ``repair`` gets the error and
    returns the index to use instead (rebuilt, or the manifest's vectors in memory).
    The object stays the same, so the retriever and the ingest pipeline keep theirs."""

    def __init__(self, inner: VectorIndex, repair: Callable[[BaseException], VectorIndex]) -> None:
        self.inner = inner
        self._repair = repair

    def _do(self, op: Callable[[VectorIndex], T]) -> T:
        try:
            return op(self.inner)
        except BaseException as err:
            if not is_failure(err):
                raise
            self._drop()
            self.inner = self._repair(err)
        return op(self.inner)

    def _drop(self) -> None:
        try:
            self.inner.close()
        except BaseException as err:  # a damaged index may fail to close too
            if not is_failure(err):
                raise

    def add(self, ids: Sequence[int], vectors: np.ndarray, doc_ids: Sequence[int]) -> None:
        self._do(lambda ix: ix.add(ids, vectors, doc_ids))

    def delete_document(self, doc_id: int) -> None:
        self._do(lambda ix: ix.delete_document(doc_id))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self._do(lambda ix: ix.query(vector, k))

    def count(self) -> int:
        return self._do(lambda ix: ix.count())

    def ids(self) -> set[int]:
        return self._do(lambda ix: ix.ids())

    def reset(self) -> None:
        self._do(lambda ix: ix.reset())

    def close(self) -> None:
        self._drop()
