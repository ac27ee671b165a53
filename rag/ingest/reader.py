"""The ingest's reading side: find the files, hash them, and parse and chunk each one
with its attachments, on the parse thread, ahead of the embedding (:mod:`rag.ingest.pipeline`).

Files whose pages need OCR (scans) are parsed for their text first and read by OCR only
after every other file of the batch, so a 300-page fax never holds up the documents
queued behind it. An e-mail's attachments are parsed one by one after it, each failing
alone (:mod:`rag.ingest.attachments`); the pipeline writes them right after it as its children.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from rag.cancel import Cancelled, CancelToken
from rag.ingest import attachments
from rag.ingest.parsing.isolated import IsolatedParser
from rag.ingest.parsing.registry import ParserRegistry
from rag.ingest.profiles import DocProfile, extract_profile
from rag.protocols import Chunker, ParseError
from rag.store.manifest import Manifest
from rag.types import Chunk, FileResult, Outcome, ParsedDocument

DONE = object()  # put on the queue after the last file: the reader has finished


@dataclass(frozen=True)
class Target:
    """A file to ingest: its absolute path and the name the user will see."""

    path: Path
    name: str


def scan(paths: Iterable[str | Path], registry: ParserRegistry) -> tuple[list[Target], list[FileResult]]:
    """Expand folders recursively. Unsupported files inside folders are skipped silently
    (a folder of contracts often holds a Thumbs.db); named files are always attempted."""
    targets: list[Target] = []
    problems: list[FileResult] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            root = p.resolve()
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fn in sorted(filenames):
                    f = Path(dirpath) / fn
                    # Legacy binaries (.doc, .xls) are tried, to say how to convert them.
                    if fn.startswith(".") or not (registry.supports(f) or registry.legacy(f)):
                        continue
                    rel = f.relative_to(root.parent).as_posix()
                    if f not in seen:
                        seen.add(f)
                        targets.append(Target(f, rel))
        elif p.exists():
            f = p.resolve()
            if f not in seen:
                seen.add(f)
                targets.append(Target(f, p.name))
        else:
            problems.append(FileResult(str(p), p.name, Outcome.FAILED, "file not found"))
    return targets, problems


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class ParsedFile:
    """One file read for the ingest: parsed and chunked, or already settled."""

    target: Target
    sha256: str
    size: int
    mtime: float = 0.0
    doc: ParsedDocument | None = None
    chunks: list[Chunk] | None = None
    profile: DocProfile | None = None
    outcome: Outcome | None = None  # set when no embedding is needed (unchanged or failed)
    reason: str = ""
    note: str = ""  # indexed, with a warning (pages OCR could not read, rows cut)
    parent: str = ""  # the path of the message this is an attachment of
    children: list[ParsedFile] = field(default_factory=list)  # its attachments, parsed

    def family(self) -> list[ParsedFile]:
        """This document, then its attachments depth first: the order they are written."""
        return [self, *(x for c in self.children for x in c.family())]

    def needs_ocr(self) -> bool:
        return any(x.doc is not None and x.doc.needs_ocr for x in self.family())


class Reader:
    def __init__(self, manifest: Manifest, registry: ParserRegistry, chunker: Chunker) -> None:
        self.manifest = manifest
        self.registry = registry
        self.chunker = chunker

    def produce(
        self,
        targets: Sequence[Target],
        q: queue.Queue[object],
        cancel: CancelToken,
        stop: threading.Event,
        isolated: IsolatedParser | None,
    ) -> None:
        """The parse thread: each file onto ``q`` as a :class:`ParsedFile`, then :data:`DONE`."""
        try:
            scans: list[Target] = []
            for t in targets:
                if cancel.is_set or stop.is_set():
                    break
                item = self.parse_one(t, isolated, cancel, ocr=False)
                if item.needs_ocr():  # OCR later, so it never holds up the text documents
                    scans.append(t)
                else:
                    q.put(item)
            for t in scans:
                if cancel.is_set or stop.is_set():
                    break
                q.put(self.parse_one(t, isolated, cancel, ocr=True))
        except Cancelled:
            pass
        finally:
            q.put(DONE)

    def parse_one(
        self,
        t: Target,
        isolated: IsolatedParser | None = None,
        cancel: CancelToken | None = None,
        ocr: bool = True,
    ) -> ParsedFile:
        try:
            # Stat before hashing: a file changed meanwhile keeps an older time, and the
            # next sync looks at it again.
            st = t.path.stat()
            size, mtime = st.st_size, st.st_mtime
            sha = file_sha256(t.path) if size else ""
        except OSError as err:
            return ParsedFile(t, "", 0, outcome=Outcome.FAILED, reason=f"cannot read the file: {err.strerror}")
        known = self.manifest.find_document(str(t.path))
        if known and known[1] == sha and known[2] == "ready":
            self.manifest.set_stat(known[0], size, mtime)  # so sync need not hash it again
            return ParsedFile(t, sha, size, mtime, outcome=Outcome.UNCHANGED)

        def parse(path: Path) -> ParsedDocument:
            if isolated is not None:
                return isolated.parse(path, cancel, ocr=ocr)
            return self.registry.parse(path, ocr=ocr)

        return self._read(t, sha, size, lambda: parse(t.path), parse, depth=0, mtime=mtime)

    def _read(
        self,
        t: Target,
        sha: str,
        size: int,
        read: Callable[[], ParsedDocument],
        parse: Callable[[Path], ParsedDocument],
        depth: int,
        parent: str = "",
        where: str = "",
        mtime: float = 0.0,
    ) -> ParsedFile:
        """Parse and chunk one document, then its attachments (each failing alone)."""
        try:
            doc = read()
            if where:
                doc = replace(doc, where=where)
            chunks = self.chunker.chunk(doc)
        except ParseError as err:
            return ParsedFile(t, sha, size, mtime, outcome=Outcome.FAILED, reason=str(err), parent=parent)
        except Cancelled:
            raise
        except Exception as err:  # noqa: BLE001 (one hostile file must not stop the batch)
            reason = f"could not read the file: {err}"[:200]
            return ParsedFile(t, sha, size, mtime, outcome=Outcome.FAILED, reason=reason, parent=parent)
        if not chunks and not doc.needs_ocr and not doc.attachments:
            reason = "; ".join(doc.notes) or "the file contains no text"
            return ParsedFile(t, sha, size, mtime, outcome=Outcome.FAILED, reason=reason, parent=parent)
        # Read here, on the parse thread, so the embedding thread never waits for it.
        profile = extract_profile([p.text for p in doc.pages[:3]], doc.title, t.name)
        item = ParsedFile(t, sha, size, mtime, doc=doc, chunks=chunks, profile=profile,
                          note="; ".join(doc.notes), parent=parent)
        if doc.attachments and depth >= attachments.MAX_DEPTH:
            item.note = "; ".join([*doc.notes, "attachments nested this deep are not read"])
            return item
        for name, att in attachments.unique(doc.attachments):
            child = Target(attachments.child_path(str(t.path), name), f"{t.name} › {name}")
            item.children.append(self._read(
                child, attachments.digest(att.data), len(att.data),
                partial(attachments.parse_attachment, name, att, parse),
                parse, depth + 1, parent=str(t.path), where=attachments.child_where(doc, t.name, name),
            ))
        return item
