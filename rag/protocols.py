"""The engine's seams. Each has one or more adapters in its own module and a contract test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from rag.cancel import CancelToken
from rag.types import Chunk, ParsedDocument


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
