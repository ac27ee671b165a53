"""A matter on the team server, used like a library on this computer: its documents,
quotes and checked answers, source pages, uploads and review grids.

The desktop app and ``docqa --matter NAME ask`` go through this class. The server searches
and picks the quotes. This computer writes the answer from them (with its own model or
the configured generation server) and checks each sentence, as for a local library. Pages
fetched for the viewer are kept in memory only, and only while the matter is open: a team
matter has no copy on this computer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.ask.answer import NOT_FOUND, answer
from rag.cancel import CancelToken
from rag.protocols import Generator
from rag.team.client import TeamClient, TeamError
from rag.team.review import TeamReview
from rag.types import (
    Answer,
    DocStatus,
    DocumentInfo,
    FileResult,
    IngestReport,
    Outcome,
    Passage,
    Progress,
    Quote,
)

PREFIX = "team:"  # how the desktop names a team matter among its libraries (":" is not allowed in a folder's)
_PAGES_KEPT = 64
_POLL_S = 0.3


def is_team(name: str) -> bool:
    return name.startswith(PREFIX)


def team_name(matter: str) -> str:
    return PREFIX + matter


def matter_of(name: str) -> str:
    return name[len(PREFIX):] if is_team(name) else name


def passage_from(d: dict[str, Any]) -> Passage:
    """A passage as the server sends it (``Passage.to_json`` plus its ids and heading).
    ``where`` keeps the server's location for formats that have one."""
    location = str(d.get("location") or "")
    page = int(d.get("page") or 0)
    heading = str(d.get("heading") or "")
    plain = f"page {page}" + (f" › {heading.split(' > ')[-1]}" if heading else "")
    return Passage(str(d["file"]), page, int(d["start"]), int(d["end"]), str(d["text"]),
                   float(d.get("score") or 0.0), doc_id=int(d.get("doc_id") or 0),
                   chunk_id=int(d.get("chunk_id") or 0), heading=heading,
                   where="" if location == plain else location)


def quotes_from(got: dict[str, Any]) -> tuple[list[Quote], list[Passage]]:
    """The server's quotes, each tied to its passage (``n`` numbers the passages from 1)."""
    passages = [passage_from(p) for p in got.get("passages") or []]
    quotes = []
    for q in got.get("quotes") or []:
        n = int(q["n"])
        if 1 <= n <= len(passages):
            quotes.append(Quote(n, passages[n - 1], int(q["start"]), int(q["end"]), str(q["text"])))
    return quotes, passages


class TeamMatter(TeamReview):
    """One team matter, signed in as one user (the client's token)."""

    read_only = False  # uploads are allowed; what a member may not do, the server refuses
    team = True

    def __init__(self, client: TeamClient, matter: str, *, listed_later: bool = False) -> None:
        """``listed_later``: :meth:`documents` answers from memory (empty at first) and
        never calls the server; the caller lists them with :meth:`fetch_documents` off
        the UI thread (the desktop does, in a job, when the matter opens)."""
        self.client = client
        self.matter = matter
        self._pages: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._listed_later = listed_later
        self._docs: list[DocumentInfo] | None = [] if listed_later else None

    @property
    def name(self) -> str:
        return team_name(self.matter)

    @property
    def server(self) -> str:
        return self.client.config.url

    @property
    def host(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.server).netloc

    def close(self) -> None:
        self._pages.clear()
        self._docs = [] if self._listed_later else None

    # -- documents and pages ----------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        """The matter's documents as last listed (listed now if never): the desktop lists
        them again with :meth:`fetch_documents` in the background after each change."""
        return list(self._docs) if self._docs is not None else self.fetch_documents()

    def fetch_documents(self) -> list[DocumentInfo]:
        out = []
        for d in self.client.documents(self.matter):
            status = {"ready": DocStatus.READY, "failed": DocStatus.FAILED}.get(d["status"], DocStatus.INDEXING)
            out.append(DocumentInfo(int(d["id"]), "", str(d["name"]), str(d["kind"]), int(d["pages"]), 0, status,
                                    str(d.get("error") or ""), float(d.get("added_at") or 0), 0, parent=int(d.get("parent_id") or 0)))
        self._docs = out
        return list(out)

    def has_page(self, doc_id: int, page: int) -> bool:
        return (doc_id, page) in self._pages

    def find(self, ref: str) -> list[DocumentInfo]:
        """Documents of the matter called ``ref`` (as listed, or by base name)."""
        docs = self.documents()
        return [d for d in docs if d.name == ref] or [d for d in docs if Path(d.name).name == Path(ref).name]

    def page_text(self, doc_id: int, page: int) -> str:
        key = (doc_id, page)
        if key in self._pages:
            self._pages.move_to_end(key)
            return self._pages[key]
        text = self.client.page(self.matter, doc_id, page)
        self._pages[key] = text
        while len(self._pages) > _PAGES_KEPT:
            self._pages.popitem(last=False)
        return text

    # -- questions --------------------------------------------------------------------
    def search(self, query: str, k: int = 8, documents: Sequence[int] | None = None) -> list[Passage]:
        return [passage_from(p) for p in self.client.search(self.matter, query, k, documents)]

    def quotes_first(self, question: str, *, k: int = 8, documents: Sequence[int] | None = None) -> list[Quote]:
        return quotes_from(self.client.quotes(self.matter, question, k, documents))[0]

    def ask(
        self,
        question: str,
        generator: Generator,
        *,
        k: int = 8,
        on_token: Callable[[str], None] | None = None,
        on_quotes: Callable[[list[Quote]], None] | None = None,
        cancel: CancelToken | None = None,
        max_tokens: int = 512,
        documents: Sequence[int] | None = None,
    ) -> Answer:
        """The server's quotes and passages, then the answer written here and checked
        sentence by sentence (rag/ask/answer.py), as :meth:`rag.library.Library.ask`. The
        server declines (no quotes) when the matter holds nothing that answers it."""
        picked, passages = quotes_from(self.client.quotes(self.matter, question, k, documents))
        if not picked:
            if on_quotes is not None:
                on_quotes([])
            return Answer(NOT_FOUND, [], generator.backend, grounded=False)

        def quotes(chosen: Sequence[Passage]) -> list[Quote]:
            # The server quoted from all its passages; the model may see fewer of them:
            # keep the quotes of those it sees, numbered as it sees them.
            number = {id(p): i + 1 for i, p in enumerate(chosen)}
            return [Quote(number[id(q.passage)], q.passage, q.start, q.end, q.text, q.score)
                    for q in picked if id(q.passage) in number]

        return answer(question, passages, generator, quotes=quotes, on_quotes=on_quotes, on_token=on_token,
                      cancel=cancel, answer_tokens=max_tokens)

    # -- uploads ----------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], progress: Callable[[Progress], None] | None = None,
               cancel: CancelToken | None = None) -> IngestReport:
        """Upload each file and follow its ingest on the server. Cancel stops before the
        next upload (a file already sent is indexed by the server all the same)."""
        files = [Path(p) for p in _expand(paths)]
        report = IngestReport()
        for i, path in enumerate(files):
            if cancel is not None and cancel.is_set:
                report.cancelled = True
                break
            if progress is not None:
                progress(Progress("upload", i, len(files), path.name, message="sending it to the team server"))
            report.results.append(self._send(path, i, len(files), progress, cancel))
        if progress is not None:
            progress(Progress("done", len(report.results), len(files)))
        return report

    def _send(self, path: Path, i: int, total: int, progress: Callable[[Progress], None] | None,
              cancel: CancelToken | None) -> FileResult:
        try:
            job = self.client.upload(self.matter, path)
            while job["state"] not in ("done", "failed"):
                if cancel is not None and cancel.is_set:
                    return FileResult(str(path), path.name, Outcome.CANCELLED,
                                      "sent; the server goes on indexing it")
                time.sleep(_POLL_S)
                job = self.client.ingest_state(self.matter, int(job["job"]))
                if progress is not None:
                    progress(Progress("upload", i, total, path.name, message=f"the server is {job['state']} it"))
        except TeamError as err:
            if err.signed_out:
                raise
            return FileResult(str(path), path.name, Outcome.FAILED, str(err))
        except OSError as err:
            return FileResult(str(path), path.name, Outcome.FAILED, f"could not read the file ({err.strerror})")
        if job["state"] == "failed":
            return FileResult(str(path), path.name, Outcome.FAILED, str(job.get("message") or "the server could not read it"))
        return FileResult(str(path), path.name, Outcome.INDEXED, chunks=int(job.get("passages") or 0))

    def remove(self, doc_ids: Sequence[int], progress: Callable[[Progress], None] | None = None) -> None:
        raise TeamError("documents are removed from a team matter by its administrator on the server")

    def sync(self, *args: Any, **kw: Any) -> Any:
        raise TeamError("a team matter has no folders on this computer to sync with")

    # -- what a local library records, which the server records for a team matter ------
    def record_export(self, fmt: str, exchanges: int) -> None:
        """The server's audit trail has every quote shown; a chat saved here is the user's file."""

    def set_logs_question_text(self, on: bool) -> None:
        """Questions are kept by the server's audit as a digest, as its administrator set it."""


def _expand(paths: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        else:
            out.append(p)
    return out
