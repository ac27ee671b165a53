"""Keeping a library's vector index in step with its manifest: finishing what a crash
interrupted, and rebuilding an index that is damaged, missing or out of step
(:mod:`rag.store.index_repair` says how). A mixin of :class:`rag.library.Library`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from rag.ingest.pipeline import ProgressCallback
from rag.protocols import VectorIndex
from rag.store.index_repair import (
    CHROMA_FILE,
    DAMAGED,
    INDEX_DIR,
    MISSING,
    GuardedIndex,
    passages,
    rebuild,
    sound,
    tidy,
)
from rag.store.lock import WriteLock
from rag.store.manifest import Manifest
from rag.store.vectors import ChromaIndex
from rag.store.vectors_memory import MemoryIndex
from rag.types import DocStatus


class IndexUpkeep:
    """Needs the library's folder, manifest, guarded index, lock and ``writing``."""

    root: Path
    manifest: Manifest
    index: GuardedIndex
    lock: WriteLock
    read_only: bool
    _note: Callable[[str], None]
    writing: Callable[..., AbstractContextManager[None]]
    _new_generation: Callable[[], None]

    def recover(self) -> None:
        """Finish what a crash interrupted, using the manifest as the truth.

        Documents left INDEXING have all their chunks and vectors in the manifest (one
        transaction wrote them), so their vectors are re-sent to the index and they are
        marked ready. An index that is damaged, missing, or disagrees with the manifest
        is rebuilt (a damaged or missing one says so through ``notes``).
        """
        tidy(self.root)
        folder = self.root / INDEX_DIR
        # In memory: this process met a failure while another held the lock; or on disk
        # and failing its check.
        if isinstance(self.index.inner, MemoryIndex) or not sound(folder):
            self.index.inner = self._index_failed(None)
            return
        chunks = self.manifest.count_chunks()
        if chunks and not (folder / CHROMA_FILE).exists():
            self._note(MISSING.format(n=passages(self._rebuild_index())))
            return
        for doc_id in self.manifest.documents_with_status(DocStatus.INDEXING):
            self.index.delete_document(doc_id)
            for ids, docs, vecs in self.manifest.embeddings_any(doc_id):
                self.index.add(ids, vecs, docs)
            self.manifest.mark_ready(doc_id)
        if self.index.count() != self.manifest.count_chunks():
            self._rebuild_index()

    def _index_failed(self, err: BaseException | None) -> VectorIndex:
        """The index failed (``err``) or fails its check (None): rebuild it from the
        manifest when this process may write, else search the manifest's vectors."""
        if self.read_only or not self.lock.try_acquire():
            return MemoryIndex(self.manifest)  # a writer elsewhere will find it and rebuild
        try:
            n = self._rebuild_index()
            self._new_generation()  # other processes reopen the new index, not the old files
        finally:
            self.lock.release()
        self._note(DAMAGED.format(n=passages(n)))
        return self.index.inner

    def rebuild_index(self, force: bool = False, progress: ProgressCallback | None = None) -> int:
        """Recreate the vector index from the manifest's stored embeddings (``force`` is
        kept for callers: every rebuild now starts from an empty folder)."""
        with self.writing(progress):
            return self._rebuild_index()

    def _rebuild_index(self) -> int:
        """Build the index aside and swap it in (:func:`rag.store.index_repair.rebuild`)."""
        self.index.close()
        n = rebuild(self.root, self.manifest.embeddings())
        self.index.inner = ChromaIndex(self.root / INDEX_DIR)
        return n

