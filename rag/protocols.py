"""The engine's seams. Each has one or more adapters in its own module and a contract test."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rag.cancel import CancelToken
from rag.types import Chunk, DocumentInfo, ParsedDocument, StoredChunk

if TYPE_CHECKING:
    from rag.ingest.profiles import DocProfile


class ParseError(Exception):
    """A file could not be read; ``str(err)`` is a one-line reason a user understands."""


@runtime_checkable
class Parser(Protocol):
    kinds: tuple[str, ...]  # lower-case file suffixes, without the dot

    def parse(self, path: Path) -> ParsedDocument: ...


@runtime_checkable
class TextFirstParser(Parser, Protocol):
    """A parser whose slow part (OCR) can wait: ``parse_text`` returns what is there
    without it and lists the pages still to read in ``ParsedDocument.needs_ocr``."""

    def parse_text(self, path: Path) -> ParsedDocument: ...


@runtime_checkable
class Chunker(Protocol):
    def chunk(self, doc: ParsedDocument) -> list[Chunk]: ...


@runtime_checkable
class Embedder(Protocol):
    dimension: int
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray: ...


@runtime_checkable
class VectorIndex(Protocol):
    def add(self, ids: Sequence[int], vectors: np.ndarray, doc_ids: Sequence[int]) -> None: ...

    def delete_document(self, doc_id: int) -> None: ...

    def query(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, similarity) pairs, best first."""
        ...

    def count(self) -> int: ...

    def ids(self) -> set[int]:
        """Every chunk id held (for consistency checks)."""
        ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    """One library's (a matter's) documents, pages and passages with their embeddings: what
    ingest writes and retrieval reads. Adapters: :class:`rag.store.sqlite_store.SqlCipherStore`
    (the single-user manifest with its Chroma index) and
    :class:`rag.store.postgres.store.PostgresStore` (a team matter). Ranking is not theirs:
    each returns candidate lists, and :class:`rag.ask.retrieval.HybridRetriever` fuses them
    the same way for every store. Searches and reads see ready documents only."""

    # -- writing ----------------------------------------------------------------------
    def add_document(
        self, *, path: str, name: str, sha256: str, size: int, parsed: ParsedDocument,
        chunks: Sequence[Chunk], vectors: np.ndarray, profile: DocProfile | None = None,
        parent_id: int | None = None, mtime: float = 0.0,
    ) -> tuple[int, list[int]]:
        """Write a parsed, embedded document (pages, passages, vectors), searchable once
        this returns; it replaces any document at the same ``path``, with its attachments.
        Returns the document's id and its passages' ids, in ``chunks`` order."""
        ...

    def delete_document(self, doc_id: int) -> None:
        """The document, its pages and passages, and its attachments (an e-mail's family)."""
        ...

    def record_failure(self, *, path: str, name: str, kind: str, reason: str, size: int,
                       parent_id: int | None = None, mtime: float = 0.0) -> int:
        """Remember a file that could not be read, with its reason; a ready document at
        ``path`` stays as it was (only its ``error`` says the new version failed)."""
        ...

    def set_note(self, doc_id: int, note: str) -> None:
        """A ready document's warning for the reader ("page 3 could not be read")."""
        ...

    # -- documents --------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]: ...

    def find_document(self, path: str) -> tuple[int, str, str] | None:
        """(id, sha256, status) of the document at ``path``, if known."""
        ...

    def profiles(self) -> dict[int, tuple[str, DocProfile]]:
        """doc id -> (name, profile) of ready documents: the document finder's input."""
        ...

    def page_text(self, doc_id: int, number: int) -> str:
        """A page's text ("" if there is none): quotes and the source viewer."""
        ...

    def first_text(self, doc_id: int, chars: int = 2000) -> str: ...

    def first_texts(self, doc_ids: Sequence[int], chars: int = 2000) -> dict[int, str]:
        """``first_text`` of many documents at once (the document finder reads them all)."""
        ...

    def change_marker(self) -> str:
        """Differs after any write to documents and passages: for caches of what searches read."""
        ...

    # -- passages ---------------------------------------------------------------------
    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, StoredChunk]: ...

    def chunk_ids(self, doc_id: int) -> list[int]: ...

    def count_chunks(self) -> int: ...

    def embeddings(self, doc_id: int | None = None) -> Iterator[tuple[list[int], list[int], np.ndarray]]:
        """(passage ids, doc ids, vectors) in batches, of one document or all."""
        ...

    def keyword_search(
        self, query: str, k: int, doc_ids: Sequence[int] | None = None, common_share: float = 1.0
    ) -> list[tuple[int, float]]:
        """(passage id, score) best first, for the query's words (:func:`rag.text.keywords`),
        any of them; with ``doc_ids``, in those documents only. Words held by more than
        ``common_share`` of the passages are left out while rarer ones remain."""
        ...

    def vector_search(self, vector: np.ndarray, k: int, doc_ids: Sequence[int] | None = None
                      ) -> list[tuple[int, float]]:
        """(passage id, cosine similarity) best first; with ``doc_ids``, in those documents
        only, and still ``k`` of them when they hold as many."""
        ...

    def document_frequency(self, word: str) -> int:
        """How many ready documents hold ``word`` (as keyword search sees it)."""
        ...

    def distinct_headings(self) -> list[str]: ...

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        """The words no passage holds (as keyword search stems them)."""
        ...

    def close(self) -> None: ...


TokenCallback = Callable[[str], None]


@runtime_checkable
class Generator(Protocol):
    backend: str
    context_size: int

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self, system: str, user: str, max_tokens: int, cancel: CancelToken
    ) -> Iterator[str]: ...


@runtime_checkable
class OffsiteGenerator(Generator, Protocol):
    """A generator that writes on another computer (a server in the organisation). While
    ``reporting(hook)`` is entered, ``hook`` is told the characters of each request before
    it leaves, so the library's audit log records every remote generation."""

    server: str
    model: str

    def reporting(self, hook: Callable[[int], None]) -> AbstractContextManager[None]: ...
