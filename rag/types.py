"""Plain data passed between the engine's parts and to its callers (CLI, desktop)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from rag.where import narrow


@dataclass(frozen=True)
class Anchor:
    """Where a reader finds the text from ``offset`` on, in words that fit the format:
    ``context`` "sheet Invoices", ``unit`` "row", ``n`` 2 reads "sheet Invoices, row 2";
    a chunk spanning rows 2 to 14 of it reads "sheet Invoices, rows 2–14"
    (see :mod:`rag.ingest.locations`)."""

    offset: int  # into the page's text
    context: str = ""  # "12 Termination", "sheet Invoices", "From Jane Roe, 2 Mar 2026, ..."
    unit: str = ""  # "¶", "row", "line" or "" (the context alone)
    n: int = 0


@dataclass(frozen=True)
class Page:
    """One page (or, for formats without pages, one section or sheet) of extracted text."""

    number: int  # 1-based, as a reader would say it
    text: str
    anchors: tuple[Anchor, ...] = ()  # by offset; none for PDF pages ("page 3" says it all)
    ocr_confidence: float | None = None  # mean word confidence 0-100 when read by OCR


@dataclass(frozen=True)
class Attachment:
    """A file inside another (an e-mail's attachment), ingested as its own child document."""

    name: str
    data: bytes


@dataclass(frozen=True)
class ParsedDocument:
    pages: list[Page]
    kind: str  # "pdf", "docx", "txt", ...
    title: str = ""
    meta: tuple[tuple[str, str], ...] = ()  # ("from", ...), ("to", ...), ("date", ...), ("subject", ...)
    attachments: tuple[Attachment, ...] = ()
    notes: tuple[str, ...] = ()  # what a reader should know: pages OCR could not read, rows cut
    needs_ocr: tuple[int, ...] = ()  # pages with no usable text layer, not yet read by OCR
    where: str = ""  # prefix of every location: "retainer.eml › contract.pdf" for an attachment


@dataclass(frozen=True)
class Chunk:
    """A span of one page's text; ``text`` is ``page.text[start:end]``."""

    page: int
    start: int
    end: int
    text: str
    heading: str = ""  # heading path, e.g. "12. Termination > 12.3 Termination for Convenience"
    ordinal: int = 0  # position of the chunk in its document
    location: str = ""  # "sheet Invoices, rows 2–14"; "" where "page N" says it (PDF)

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
    where: str = ""  # the chunk's stored location, for formats where "page N" says little

    @property
    def location(self) -> str:
        """Where a reader finds it: "page 3 › 12.3 Termination for Convenience", or what
        fits its format ("sheet Invoices, rows 2–14", "12 Termination › ¶ 9")."""
        if self.where:
            return self.where
        where = f"page {self.page}"
        if self.heading:
            where += f" › {self.heading.split(' > ')[-1]}"
        return where

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "page": self.page,
            "location": self.location,
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
        return {"n": self.n, "file": p.file, "page": p.page, "location": p.location, "text": p.text}


_CLAUSE_NUMBER = re.compile(r"\s*(?:Section\s+|Article\s+)?(\d{1,2}(?:\.\d{1,2}){0,3}(?:\([a-z0-9]{1,3}\))?)[.)]?\s+\S")


@dataclass(frozen=True)
class Quote:
    """Exact wording from a cited passage that answers the question, shown before any
    generated text. ``text`` is the page's text from ``start`` to ``end`` (page offsets,
    like a passage's), so a viewer can highlight exactly these sentences."""

    n: int  # the citation number of the passage it comes from
    passage: Passage
    start: int
    end: int
    text: str
    score: float = 0.0

    @property
    def location(self) -> str:
        """The quote's own clause number where it opens with one ("page 2, § 3.2"), else
        where its passage is."""
        m = _CLAUSE_NUMBER.match(self.text)
        p = self.passage
        if m and not p.where:
            return f"page {p.page}, § {m.group(1)}"
        if p.where:  # a quote from a table: its own rows
            return narrow(p.where, p.text, self.start - p.start, self.end - p.start)
        return p.location

    def to_json(self) -> dict[str, object]:
        p = self.passage
        return {"n": self.n, "file": p.file, "page": p.page, "location": self.location,
                "text": self.text, "start": self.start, "end": self.end}


class Support(StrEnum):
    SUPPORTED = "supported"  # cited, and its facts and wording are found in the source
    UNSUPPORTED = "unsupported"  # not found in the sources: shown marked, never as fact
    CONTRADICTED = "contradicted"  # a number, date, party or place differs from the source's


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one generated sentence; ``start``/``end`` are offsets in the answer."""

    start: int
    end: int
    text: str
    verdict: Support
    sources: tuple[int, ...] = ()  # citation numbers that back it (or that it contradicts)
    reason: str = ""  # for a reader: what was not found, or what differs

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "verdict": self.verdict.value, "sources": list(self.sources),
                "reason": self.reason, "start": self.start, "end": self.end}


@dataclass
class Answer:
    text: str
    citations: list[Citation]
    backend: str
    cancelled: bool = False
    grounded: bool = True  # False when nothing relevant was retrieved (the answer declines)
    quotes: list[Quote] = field(default_factory=list)
    checks: list[SentenceCheck] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "quotes": [q.to_json() for q in self.quotes],
            "sentences": [c.to_json() for c in self.checks],
            "declined": not self.grounded,
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
    parent: int = 0  # the id of the e-mail this is an attachment of; 0 for a file of its own
    ocr_pages: tuple[tuple[int, float], ...] = ()  # (page, OCR confidence 0-100) of pages read by OCR


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
    note: str = ""  # indexed, but the reader should know: "page 3 could not be read (OCR)"


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


@dataclass(frozen=True)
class StoredChunk:
    """A passage as a store holds it, with its document's name and path."""

    id: int
    doc_id: int
    ordinal: int
    page: int
    start: int
    end: int
    heading: str
    text: str
    name: str
    path: str
    location: str = ""  # "sheet Invoices, rows 2–14", "12 Termination › ¶ 9" (rag/ingest/locations.py)
