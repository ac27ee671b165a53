"""Chat history, saved per library as ``chats.json`` in the library folder.

Citations are stored with everything needed to reopen the source later (path, page and
character offsets), so an old answer's [n] still opens the right passage.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.types import Answer, Citation, Passage

CHATS_FILE = "chats.json"
FORMAT_VERSION = 1


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

    @classmethod
    def from_citation(cls, c: Citation) -> SourceRef:
        p = c.passage
        return cls(c.n, p.file, p.page, p.start, p.end, p.text, p.doc_id, p.path, p.heading)

    def passage(self) -> Passage:
        return Passage(self.file, self.page, self.start, self.end, self.text, 0.0,
                       doc_id=self.doc_id, heading=self.heading, path=self.path)


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

    def set_answer(self, ans: Answer) -> None:
        self.answer = ans.text
        self.sources = [SourceRef.from_citation(c) for c in ans.citations]
        self.backend = ans.backend
        self.stopped = ans.cancelled


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
            sources = [SourceRef(**s) for s in e.pop("sources", [])]
            exchanges.append(Exchange(sources=sources, **e))
        return cls(d["id"], d.get("title", "Chat"), d.get("created_at", 0.0), exchanges)


class ChatStore:
    """All chats of one library, newest last."""

    def __init__(self, library_root: Path) -> None:
        self.path = library_root / CHATS_FILE
        self.chats: list[Chat] = self._load()

    def _load(self) -> list[Chat]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [Chat.from_json(c) for c in data.get("chats", [])]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError):
            try:
                self.path.replace(self.path.with_suffix(".damaged.json"))
            except OSError:
                pass
            return []

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
        if not self.path.parent.is_dir():
            return  # the library was deleted meanwhile
        data = {"version": FORMAT_VERSION, "chats": [asdict(c) for c in self.chats]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(self.path)
