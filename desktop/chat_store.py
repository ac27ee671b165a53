"""Chat history, saved per library as ``chats.sealed`` in the library folder: JSON sealed
with AES-256-GCM under the library's file key (questions, answers and quotes reveal the
documents as much as the documents do). A ``chats.json`` left by an earlier version is
sealed and removed on first load.

Citations are stored with everything needed to reopen the source later (path, page and
character offsets), so an old answer's [n] still opens the right passage. Since format 2
an answer also keeps its verbatim quotes (with their page offsets, so a quote reopens
with exactly its sentences highlighted) and the verdict on each generated sentence.
Files of format 1 load unchanged: their answers simply have no quotes or checks.

A library opened read-only keeps its chats in memory for the session: nothing is written
into its folder (the earlier chats there are still read and shown).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rag.store.sealed import SealedError, Sealer
from rag.types import Answer, Citation, Passage, Quote, SentenceCheck, Support

CHATS_FILE = "chats.sealed"
LEGACY_CHATS_FILE = "chats.json"  # plaintext, before encryption
FORMAT_VERSION = 2

UNSUPPORTED_NOTE = "not found in the sources — check"


def _known(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """``d`` without keys ``cls`` does not have (a file written by a newer version)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def _location(page: int, heading: str) -> str:
    return Passage("", page, 0, 0, "", 0.0, heading=heading).location


@dataclass
class SourceRef:
    n: int
    file: str
    page: int
    start: int
    end: int
    text: str
    doc_id: int = 0
    path: str = ""
    heading: str = ""
    # Where it is, in the words of its format ("sheet Invoices, rows 2–14"); "" for a PDF
    # page, located by page and heading. A quote's own location ("page 2, § 3.2").
    where: str = ""

    @classmethod
    def from_citation(cls, c: Citation) -> SourceRef:
        p = c.passage
        return cls(c.n, p.file, p.page, p.start, p.end, p.text, p.doc_id, p.path, p.heading, p.where)

    def passage(self) -> Passage:
        return Passage(self.file, self.page, self.start, self.end, self.text, 0.0,
                       doc_id=self.doc_id, heading=self.heading, path=self.path, where=self.where)

    @property
    def location(self) -> str:
        return self.where or _location(self.page, self.heading)


@dataclass
class QuoteRef(SourceRef):
    """A verbatim quote: ``text`` is the page's text from ``start`` to ``end``, so the
    viewer highlights exactly these sentences (not the whole passage ``n``)."""

    @classmethod
    def from_quote(cls, q: Quote) -> QuoteRef:
        p = q.passage
        return cls(q.n, p.file, p.page, q.start, q.end, q.text, p.doc_id, p.path, p.heading, q.location)

    def source(self) -> SourceRef:
        """What the viewer opens: the page, with the quote's range as the highlight."""
        # A PDF quote's "page 2, § 3.2" is the viewer's page already; other formats keep theirs.
        where = "" if self.where.startswith("page ") else self.where
        return SourceRef(self.n, self.file, self.page, self.start, self.end, self.text,
                         self.doc_id, self.path, self.heading, where)


@dataclass
class CheckRef:
    """The verdict on one sentence of the answer (offsets in the answer's text)."""

    start: int
    end: int
    text: str
    verdict: str  # a rag.types.Support value
    sources: list[int] = field(default_factory=list)
    reason: str = ""

    @classmethod
    def from_check(cls, c: SentenceCheck) -> CheckRef:
        return cls(c.start, c.end, c.text, str(c.verdict.value), list(c.sources), c.reason)

    @property
    def supported(self) -> bool:
        return self.verdict == Support.SUPPORTED.value

    @property
    def contradicted(self) -> bool:
        return self.verdict == Support.CONTRADICTED.value

    def note(self) -> str:
        """What a reader is told about a sentence that is not plainly supported."""
        if self.contradicted:
            return f"contradicts the source: {self.reason}" if self.reason else "contradicts the source"
        if self.supported:
            return ""
        return UNSUPPORTED_NOTE


@dataclass(frozen=True)
class Segment:
    """A piece of an answer's text and, for a checked sentence, its verdict."""

    text: str
    check: CheckRef | None = None

    @property
    def doubtful(self) -> bool:
        return self.check is not None and not self.check.supported


@dataclass
class Exchange:
    """One question and its answer."""

    question: str
    answer: str = ""
    sources: list[SourceRef] = field(default_factory=list)
    backend: str = ""
    stopped: bool = False
    error: str = ""
    asked_at: float = field(default_factory=time.time)
    quotes: list[QuoteRef] = field(default_factory=list)
    checks: list[CheckRef] = field(default_factory=list)
    grounded: bool = True  # False: the answer declines; its quotes are only the closest ones

    def set_quotes(self, quotes: list[Quote]) -> None:
        self.quotes = [QuoteRef.from_quote(q) for q in quotes]

    def set_answer(self, ans: Answer) -> None:
        self.answer = ans.text
        self.sources = [SourceRef.from_citation(c) for c in ans.citations]
        self.backend = ans.backend
        self.stopped = ans.cancelled
        self.grounded = ans.grounded
        if ans.quotes or not self.quotes:
            self.set_quotes(ans.quotes)
        self.checks = [CheckRef.from_check(c) for c in ans.checks]

    def quote_for(self, n: int) -> QuoteRef | None:
        """The first quote taken from source ``n``, if any."""
        return next((q for q in self.quotes if q.n == n), None)

    def segments(self) -> list[Segment]:
        """The answer cut at its checked sentences, in order; text between (or around)
        them is plain. A check whose offsets no longer match the text is found by its
        wording; one that cannot be found is dropped."""
        text = self.answer
        placed: list[tuple[int, int, CheckRef]] = []
        pos = 0
        for c in sorted(self.checks, key=lambda c: c.start):
            start, end = c.start, c.end
            if not (pos <= start <= end <= len(text)) or (c.text and text[start:end].strip() != c.text.strip()):
                found = text.find(c.text.strip(), pos) if c.text.strip() else -1
                if found < 0:
                    continue
                start, end = found, found + len(c.text.strip())
            placed.append((start, end, c))
            pos = end
        out: list[Segment] = []
        pos = 0
        for start, end, c in placed:
            if start > pos:
                out.append(Segment(text[pos:start]))
            out.append(Segment(text[start:end], c))
            pos = end
        if pos < len(text):
            out.append(Segment(text[pos:]))
        return out

    @property
    def doubtful(self) -> list[CheckRef]:
        """The sentences that are not plainly supported by the sources."""
        return [c for c in self.checks if not c.supported]


@dataclass
class Chat:
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    title: str = "New chat"
    created_at: float = field(default_factory=time.time)
    exchanges: list[Exchange] = field(default_factory=list)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Chat:
        exchanges = []
        for e in d.get("exchanges", []):
            e = dict(e)
            sources = [SourceRef(**_known(SourceRef, s)) for s in e.pop("sources", [])]
            quotes = [QuoteRef(**_known(QuoteRef, q)) for q in e.pop("quotes", [])]
            checks = [CheckRef(**_known(CheckRef, c)) for c in e.pop("checks", [])]
            exchanges.append(Exchange(sources=sources, quotes=quotes, checks=checks, **_known(Exchange, e)))
        return cls(d["id"], d.get("title", "Chat"), d.get("created_at", 0.0), exchanges)


class ChatStore:
    """All chats of one library, newest last."""

    def __init__(self, library_root: Path, sealer: Sealer, *, read_only: bool = False) -> None:
        self.path = library_root / CHATS_FILE
        self._sealer: Sealer | None = sealer
        self.read_only = read_only
        self.chats: list[Chat] = self._load()
        legacy = library_root / LEGACY_CHATS_FILE
        if legacy.exists() and not read_only:
            self._adopt(legacy)

    @classmethod
    def in_memory(cls) -> ChatStore:
        """Chats kept for this session only (a team matter's: nothing of it on disk here)."""
        store = cls.__new__(cls)
        store.path, store._sealer, store.read_only, store.chats = Path(), None, True, []
        return store

    def _load(self) -> list[Chat]:
        assert self._sealer is not None  # only in_memory() has none, and it loads nothing
        try:
            data = json.loads(self._sealer.read(self.path).decode("utf-8"))
            return [Chat.from_json(c) for c in data.get("chats", [])]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError, SealedError):
            # Kept (still sealed) for a look later; the user starts with an empty history.
            if self.read_only:
                return []
            try:
                self.path.replace(self.path.with_suffix(".damaged"))
            except OSError:
                pass
            return []

    def _adopt(self, legacy: Path) -> None:
        """Seal a plaintext history from before encryption, then remove the plaintext.
        The sealed file is complete on disk before the plaintext goes: a kill between
        the two leaves both, and the next load does it again."""
        if not self.path.exists():  # else it was sealed already, just before a kill
            try:
                data = json.loads(legacy.read_text(encoding="utf-8"))
                self.chats = [Chat.from_json(c) for c in data.get("chats", [])]
            except (OSError, ValueError, KeyError, TypeError):
                pass  # unreadable: nothing of it is kept, in clear or otherwise
            self.save()
        legacy.unlink(missing_ok=True)
        legacy.with_suffix(".damaged.json").unlink(missing_ok=True)

    def current(self) -> Chat:
        if not self.chats:
            self.chats.append(Chat())
        return self.chats[-1]

    def new_chat(self) -> Chat:
        cur = self.current()
        if not cur.exchanges:
            return cur  # an empty chat is reused, not piled up
        chat = Chat()
        self.chats.append(chat)
        return chat

    def select(self, chat_id: str) -> Chat:
        """Make an earlier chat the current one (chats are kept in order of use)."""
        chat = next(c for c in self.chats if c.id == chat_id)
        self.chats.remove(chat)
        self.chats.append(chat)
        return chat

    def save(self) -> None:
        if self.read_only or self._sealer is None or not self.path.parent.is_dir():
            return  # read-only: kept in memory only; or the library was deleted meanwhile
        data = {"version": FORMAT_VERSION, "chats": [asdict(c) for c in self.chats]}
        self._sealer.write(self.path, json.dumps(data).encode("utf-8"))
