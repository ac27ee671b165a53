"""Plain data passed between the engine's parts and to its callers (CLI, desktop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Page:
    """One page (or, for formats without pages, one section) of extracted text."""

    number: int  # 1-based, as a reader would say it
    text: str


@dataclass(frozen=True)
class ParsedDocument:
    pages: list[Page]
    kind: str  # "pdf", "docx", "txt", ...
    title: str = ""


@dataclass(frozen=True)
class Chunk:
    """A span of one page's text; ``text`` is ``page.text[start:end]``."""

    page: int
    start: int
    end: int
    text: str
    heading: str = ""  # heading path, e.g. "12. Termination > 12.3 Termination for Convenience"
    ordinal: int = 0  # position of the chunk in its document

    @property
    def indexed_text(self) -> str:
        """What keyword and vector search see: the heading path, then the text."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Passage:
    """A retrieved passage, ready to show or cite."""

    file: str
    page: int
    start: int
    end: int
    text: str
    score: float
    doc_id: int = 0
    chunk_id: int = 0
    heading: str = ""
    path: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Citation:
    n: int
    passage: Passage

    def to_json(self) -> dict[str, object]:
        p = self.passage
        return {"n": self.n, "file": p.file, "page": p.page, "text": p.text}


@dataclass
class Answer:
    text: str
    citations: list[Citation]
    backend: str
    cancelled: bool = False
    grounded: bool = True  # False when nothing relevant was retrieved

    def to_json(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "backend": self.backend,
        }


class DocStatus(StrEnum):
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    path: str
    name: str
    kind: str
    pages: int
    chunks: int
    status: DocStatus
    error: str
    added_at: float
    size: int


class Outcome(StrEnum):
    INDEXED = "indexed"
    UNCHANGED = "unchanged"
    REPLACED = "replaced"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class FileResult:
    path: str
    name: str
    outcome: Outcome
    reason: str = ""
    pages: int = 0
    chunks: int = 0


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    cancelled: bool = False

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]


@dataclass(frozen=True)
class Progress:
    """A progress event; callbacks receive these from worker threads."""

    stage: str  # "scan", "parse", "embed", "done"
    done: int  # files finished
    total: int  # files in the batch
    current: str = ""  # file being worked on
    chunks: int = 0  # chunks embedded so far
    message: str = ""
