"""The ingest pipeline: scan, parse and chunk on one thread, embed and store on another.

Parsing runs ahead on a background thread into a small bounded queue, so the embedding
model, the bottleneck, always has the next document waiting. Embedding batches span
documents and are sorted by length (less padding); each document is then written to the
manifest in one transaction before its vectors reach Chroma, and only then marked ready,
so a crash at any point leaves either the old state or a state that
:meth:`rag.library.Library.recover` completes from the manifest alone.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.cancel import Cancelled, CancelToken
from rag.doc_profile import DocProfile, extract_profile
from rag.manifest import Manifest
from rag.parsing.isolated import IsolatedParser
from rag.parsing.registry import ParserRegistry
from rag.protocols import Chunker, Embedder, ParseError, VectorIndex
from rag.types import (
    Chunk,
    FileResult,
    IngestReport,
    Outcome,
    ParsedDocument,
    Progress,
)

ProgressCallback = Callable[[Progress], None]

EMBED_SLICE = 64  # chunks per encode call: the cancel granularity while embedding
EMBED_BUFFER = 256  # chunks gathered across documents before embedding


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
                    if fn.startswith(".") or not registry.supports(f):
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
class _Parsed:
    target: Target
    sha256: str
    size: int
    doc: ParsedDocument | None = None
    chunks: list[Chunk] | None = None
    profile: DocProfile | None = None
    outcome: Outcome | None = None  # set when no embedding is needed (unchanged or failed)
    reason: str = ""


_DONE = object()


class IngestPipeline:
    def __init__(
        self,
        manifest: Manifest,
        index: VectorIndex,
        embedder: Embedder,
        registry: ParserRegistry,
        chunker: Chunker,
        isolate: bool = True,
        temp_dir: Path | None = None,
    ) -> None:
        """``isolate``: parse in a worker process (see :mod:`rag.parsing.isolated`), so a
        file that hangs or crashes its parser fails alone and Cancel stops even a parse;
        its temporary files go to ``temp_dir``."""
        self.isolate = isolate
        self.temp_dir = temp_dir
        self.manifest = manifest
        self.index = index
        self.embedder = embedder
        self.registry = registry
        self.chunker = chunker

    def run(
        self,
        paths: Sequence[str | Path],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IngestReport:
        cancel = cancel or CancelToken()
        emit = progress or (lambda _e: None)
        report = IngestReport()
        targets, problems = scan(paths, self.registry)
        report.results.extend(problems)
        total = len(targets) + len(problems)
        emit(Progress("scan", len(problems), total, message=f"{len(targets)} file(s) to check"))

        q: queue.Queue[object] = queue.Queue(maxsize=4)
        stop = threading.Event()
        isolated = IsolatedParser(self.registry, temp_dir=self.temp_dir) if self.isolate else None
        producer = threading.Thread(
            target=self._produce, args=(targets, q, cancel, stop, isolated), name="docqa-parse", daemon=True
        )
        producer.start()
        pending: list[_Parsed] = []
        embedded = 0
        finished = len(problems)
        try:
            while True:
                item = q.get()
                if item is _DONE:
                    break
                assert isinstance(item, _Parsed)
                emit(Progress("parse", finished, total, item.target.name, embedded))
                if item.outcome is not None:
                    report.results.append(self._settle(item))
                    finished += 1
                    emit(Progress("parse", finished, total, item.target.name, embedded))
                    continue
                pending.append(item)
                buffered = sum(len(p.chunks or []) for p in pending)
                if buffered >= EMBED_BUFFER or q.empty():
                    embedded, finished = self._flush(pending, report, emit, cancel, embedded, finished, total)
                    pending = []
            if pending:
                embedded, finished = self._flush(pending, report, emit, cancel, embedded, finished, total)
            if cancel.is_set:  # stopped while parsing, with nothing left to embed
                report.cancelled = True
        except Cancelled:
            report.cancelled = True
        finally:
            stop.set()
            while producer.is_alive():  # unblock a producer waiting on a full queue
                try:
                    q.get_nowait()
                except queue.Empty:
                    producer.join(timeout=0.05)
            if isolated is not None:
                isolated.close()
        if report.cancelled:
            done = {r.path for r in report.results}
            for t in targets:
                if str(t.path) not in done:
                    report.results.append(FileResult(str(t.path), t.name, Outcome.CANCELLED))
        emit(Progress("done", finished, total, "", embedded))
        return report

    # -- parse thread ---------------------------------------------------------------------
    def _produce(
        self,
        targets: list[Target],
        q: queue.Queue[object],
        cancel: CancelToken,
        stop: threading.Event,
        isolated: IsolatedParser | None,
    ) -> None:
        try:
            for t in targets:
                if cancel.is_set or stop.is_set():
                    break
                q.put(self._parse_one(t, isolated, cancel))
        except Cancelled:
            pass
        finally:
            q.put(_DONE)

    def _parse_one(
        self, t: Target, isolated: IsolatedParser | None = None, cancel: CancelToken | None = None
    ) -> _Parsed:
        try:
            size = t.path.stat().st_size
            sha = file_sha256(t.path) if size else ""
        except OSError as err:
            return _Parsed(t, "", 0, outcome=Outcome.FAILED, reason=f"cannot read the file: {err.strerror}")
        known = self.manifest.find_document(str(t.path))
        if known and known[1] == sha and known[2] == "ready":
            return _Parsed(t, sha, size, outcome=Outcome.UNCHANGED)
        try:
            doc = isolated.parse(t.path, cancel) if isolated is not None else self.registry.parse(t.path)
            chunks = self.chunker.chunk(doc)
        except ParseError as err:
            return _Parsed(t, sha, size, outcome=Outcome.FAILED, reason=str(err))
        except Cancelled:
            raise
        except Exception as err:  # noqa: BLE001 (one hostile file must not stop the batch)
            return _Parsed(t, sha, size, outcome=Outcome.FAILED, reason=f"could not read the file: {err}"[:200])
        if not chunks:
            return _Parsed(t, sha, size, outcome=Outcome.FAILED, reason="the file contains no text")
        # Read here, on the parse thread, so the embedding thread never waits for it.
        profile = extract_profile([p.text for p in doc.pages[:3]], doc.title, t.name)
        return _Parsed(t, sha, size, doc=doc, chunks=chunks, profile=profile)

    # -- embed and store --------------------------------------------------------------------
    def _settle(self, item: _Parsed) -> FileResult:
        t = item.target
        if item.outcome is Outcome.FAILED:
            kind = t.path.suffix.lower().lstrip(".")
            self.manifest.record_failure(
                path=str(t.path), name=t.name, kind=kind, reason=item.reason, size=item.size
            )
        return FileResult(str(t.path), t.name, item.outcome or Outcome.FAILED, item.reason)

    def _flush(
        self,
        items: list[_Parsed],
        report: IngestReport,
        emit: ProgressCallback,
        cancel: CancelToken,
        embedded: int,
        finished: int,
        total: int,
    ) -> tuple[int, int]:
        texts = [c.indexed_text for it in items for c in (it.chunks or [])]
        vectors = np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts: list[np.ndarray] = []
        for s in range(0, len(order), EMBED_SLICE):
            cancel.raise_if_set()
            idx = order[s : s + EMBED_SLICE]
            parts.append(self.embedder.embed([texts[i] for i in idx]))
            embedded += len(idx)
            emit(Progress("embed", finished, total, items[0].target.name, embedded))
        if parts:
            sorted_vecs = np.concatenate(parts)
            vectors = np.empty_like(sorted_vecs)
            vectors[order] = sorted_vecs
        cancel.raise_if_set()
        offset = 0
        for it in items:
            assert it.doc is not None and it.chunks is not None
            n = len(it.chunks)
            vecs = vectors[offset : offset + n]
            offset += n
            replaced_before = self.manifest.find_document(str(it.target.path))
            doc_id, ids, old_id = self.manifest.begin_document(
                path=str(it.target.path),
                name=it.target.name,
                sha256=it.sha256,
                size=it.size,
                parsed=it.doc,
                chunks=it.chunks,
                vectors=vecs,
                profile=it.profile,
            )
            if old_id is not None:
                self.index.delete_document(old_id)
            self.index.add(ids, vecs, [doc_id] * len(ids))
            self.manifest.mark_ready(doc_id)
            was_ready = replaced_before is not None and replaced_before[2] == "ready"
            outcome = Outcome.REPLACED if was_ready else Outcome.INDEXED
            report.results.append(
                FileResult(str(it.target.path), it.target.name, outcome, "", len(it.doc.pages), n)
            )
            finished += 1
            emit(Progress("embed", finished, total, it.target.name, embedded))
        return embedded, finished
