"""The single-user store: the encrypted SQLite manifest (documents, pages, passages, their
vectors and the FTS5 keyword index) with its derived Chroma index for library-wide vector
search. An adapter over both, unchanged: the library's ingest pipeline keeps writing them
itself (its crash recovery relies on the INDEXING status between the two), and retrieval
reads them through this :class:`rag.protocols.Store`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.protocols import VectorIndex
from rag.store.manifest import Manifest
from rag.types import Chunk, DocumentInfo, ParsedDocument, StoredChunk

if TYPE_CHECKING:
    from rag.ingest.profiles import DocProfile


class SqlCipherStore:
    def __init__(self, manifest: Manifest, index: VectorIndex) -> None:
        self.manifest = manifest
        self.index = index

    # -- writing: the pipeline's steps, in its order (rag/ingest/pipeline.py) --------------
    def add_document(
        self, *, path: str, name: str, sha256: str, size: int, parsed: ParsedDocument,
        chunks: Sequence[Chunk], vectors: np.ndarray, profile: DocProfile | None = None,
        parent_id: int | None = None, mtime: float = 0.0,
    ) -> tuple[int, list[int]]:
        before = self.manifest.find_document(path)
        family = self.manifest.descendants(before[0]) if before else []
        doc_id, ids, old_id = self.manifest.begin_document(
            path=path, name=name, sha256=sha256, size=size, parsed=parsed, chunks=chunks,
            vectors=vectors, profile=profile, parent_id=parent_id, mtime=mtime)
        for gone in [*([old_id] if old_id is not None else []), *family]:
            self.index.delete_document(gone)
        if ids:
            self.index.add(ids, np.asarray(vectors, dtype=np.float32), [doc_id] * len(ids))
        self.manifest.mark_ready(doc_id)
        return doc_id, ids

    def delete_document(self, doc_id: int) -> None:
        family = self.manifest.descendants(doc_id)
        self.manifest.delete_document(doc_id)
        for d in (doc_id, *family):
            self.index.delete_document(d)

    def record_failure(self, *, path: str, name: str, kind: str, reason: str, size: int,
                       parent_id: int | None = None, mtime: float = 0.0) -> int:
        return self.manifest.record_failure(path=path, name=name, kind=kind, reason=reason, size=size,
                                            parent_id=parent_id, mtime=mtime)

    def set_note(self, doc_id: int, note: str) -> None:
        self.manifest.set_note(doc_id, note)

    # -- documents ----------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.manifest.documents()

    def find_document(self, path: str) -> tuple[int, str, str] | None:
        return self.manifest.find_document(path)

    def profiles(self) -> dict[int, tuple[str, DocProfile]]:
        return self.manifest.profiles()

    def page_text(self, doc_id: int, number: int) -> str:
        return self.manifest.page_text(doc_id, number)

    def first_text(self, doc_id: int, chars: int = 2000) -> str:
        return self.manifest.first_text(doc_id, chars)

    def first_texts(self, doc_ids: Sequence[int], chars: int = 2000) -> dict[int, str]:
        return self.manifest.first_texts(doc_ids, chars)

    def change_marker(self) -> str:
        return self.manifest.change_marker()

    # -- passages -------------------------------------------------------------------------
    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, StoredChunk]:
        return self.manifest.chunks_by_id(ids)

    def chunk_ids(self, doc_id: int) -> list[int]:
        return self.manifest.chunk_ids(doc_id)

    def count_chunks(self) -> int:
        return self.manifest.count_chunks()

    def embeddings(self, doc_id: int | None = None) -> Iterator[tuple[list[int], list[int], np.ndarray]]:
        return self.manifest.embeddings(doc_id)

    def keyword_search(
        self, query: str, k: int, doc_ids: Sequence[int] | None = None, common_share: float = 1.0
    ) -> list[tuple[int, float]]:
        return self.manifest.keyword_search(query, k, doc_ids=doc_ids, common_share=common_share)

    def vector_search(self, vector: np.ndarray, k: int, doc_ids: Sequence[int] | None = None
                      ) -> list[tuple[int, float]]:
        if doc_ids is None:
            return self.index.query(vector, k)
        # A few documents' passages: exact, from the manifest's own vectors (the index has
        # no filter, and filtering its top k could leave fewer than k).
        ids: list[int] = []
        mats: list[np.ndarray] = []
        for d in dict.fromkeys(int(x) for x in doc_ids):
            for cids, _docs, vecs in self.manifest.embeddings(d):
                ids.extend(cids)
                mats.append(vecs)
        if not ids:
            return []
        sims = np.concatenate(mats) @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [(ids[i], float(sims[i])) for i in order]

    def document_frequency(self, word: str) -> int:
        return self.manifest.document_frequency(word)

    def distinct_headings(self) -> list[str]:
        return self.manifest.distinct_headings()

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        return self.manifest.unknown_words(words)

    def close(self) -> None:
        """The library owns the manifest and the index, and closes them."""
