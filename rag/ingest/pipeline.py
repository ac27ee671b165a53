"""The ingest pipeline: scan, parse and chunk on one thread, embed and store on another.

Parsing runs ahead on a background thread (:mod:`rag.ingest.reader`) into a small
bounded queue, so the embedding model, the bottleneck, always has the next document
waiting. Embedding batches span documents and are sorted by length (less padding); each
document is then written to the manifest in one transaction before its vectors reach
Chroma, and only then marked ready, so a crash at any point leaves either the old state
or a state that :meth:`rag.library.Library.recover` completes from the manifest alone.
An e-mail's attachments are written right after it, as its children.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.cancel import Cancelled, CancelToken
from rag.ingest.memory import release_free_memory
from rag.ingest.parsing.isolated import IsolatedParser
from rag.ingest.parsing.registry import ParserRegistry
from rag.ingest.reader import DONE, ParsedFile, Reader, Target, file_sha256, scan
from rag.protocols import Chunker, Embedder, VectorIndex
from rag.store.manifest import Manifest
from rag.types import FileResult, IngestReport, Outcome, Progress

# Target, scan and file_sha256 live in rag.ingest.reader; callers import them from here.
__all__ = ["EMBED_BUFFER", "EMBED_SLICE", "MIN_SLICE", "SLICE_SECONDS", "IngestPipeline",
           "ProgressCallback", "Target", "file_sha256", "scan"]

ProgressCallback = Callable[[Progress], None]

EMBED_SLICE = 64  # most chunks per encode call: the cancel granularity while embedding
MIN_SLICE = 8
SLICE_SECONDS = 0.3  # Cancel must stop within a second: one encode call takes about this
EMBED_BUFFER = 256  # chunks gathered across documents before embedding


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
        """``isolate``: parse in a worker process (see :mod:`rag.ingest.parsing.isolated`), so a
        file that hangs or crashes its parser fails alone and Cancel stops even a parse;
        its temporary files go to ``temp_dir``."""
        self.isolate = isolate
        self.temp_dir = temp_dir
        self.manifest = manifest
        self.index = index
        self.embedder = embedder
        self.registry = registry
        self.chunker = chunker
        self.reader = Reader(manifest, registry, chunker)
        self._slice = MIN_SLICE * 2  # grows to EMBED_SLICE where the machine is fast enough

    def run(
        self,
        paths: Sequence[str | Path],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IngestReport:
        targets, problems = scan(paths, self.registry)
        return self.run_targets(targets, problems, progress, cancel)

    def run_targets(
        self,
        targets: Sequence[Target],
        problems: Sequence[FileResult] = (),
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IngestReport:
        """Ingest files already found (by :func:`scan`, or by a sync that knows which)."""
        cancel = cancel or CancelToken()
        emit = progress or (lambda _e: None)
        report = IngestReport()
        targets = list(targets)
        report.results.extend(problems)
        total = len(targets) + len(problems)
        emit(Progress("scan", len(problems), total, message=f"{len(targets)} file(s) to check"))

        q: queue.Queue[object] = queue.Queue(maxsize=4)
        stop = threading.Event()
        isolated = IsolatedParser(self.registry, temp_dir=self.temp_dir) if self.isolate else None
        producer = threading.Thread(
            target=self.reader.produce, args=(targets, q, cancel, stop, isolated), name="docqa-parse", daemon=True
        )
        producer.start()
        pending: list[ParsedFile] = []
        embedded = 0
        finished = len(problems)
        try:
            while True:
                item = q.get()
                if item is DONE:
                    break
                assert isinstance(item, ParsedFile)
                emit(Progress("parse", finished, total, item.target.name, embedded))
                if item.outcome is not None:
                    report.results.append(self._settle(item))
                    finished += 1
                    emit(Progress("parse", finished, total, item.target.name, embedded))
                    continue
                pending.append(item)
                buffered = sum(len(x.chunks or []) for p in pending for x in p.family())
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
                isolated.abort() if cancel.is_set else isolated.close()
        if report.cancelled:
            done = {r.path for r in report.results}
            for t in targets:
                if str(t.path) not in done:
                    report.results.append(FileResult(str(t.path), t.name, Outcome.CANCELLED))
        emit(Progress("done", finished, total, "", embedded))
        return report

    # -- embed and store --------------------------------------------------------------------
    def _embed(self, texts: list[str], cancel: CancelToken) -> np.ndarray:
        """Embed on a helper thread and watch the cancel token meanwhile: an encode call
        cannot be interrupted, and on a saturated machine even a small one takes seconds.
        After Cancel its result is simply dropped (nothing was written yet)."""
        box: list[object] = []
        done = threading.Event()

        def work() -> None:
            try:
                box.append(self.embedder.embed(texts))
            except BaseException as err:  # noqa: BLE001 (handed back to the caller below)
                box.append(err)
            finally:
                done.set()

        # Not a daemon: a process that exits after Cancel waits for the encode to end
        # (torch aborts the process when a thread dies inside it).
        threading.Thread(target=work, name="docqa-embed", daemon=False).start()
        while not done.wait(0.05):
            cancel.raise_if_set()
        result = box[0]
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, np.ndarray)
        return result

    def _settle(self, item: ParsedFile) -> FileResult:
        t = item.target
        if item.outcome is Outcome.FAILED:
            kind = t.path.suffix.lower().lstrip(".")
            self.manifest.record_failure(
                path=str(t.path), name=t.name, kind=kind, reason=item.reason, size=item.size,
                mtime=item.mtime,
            )
        return FileResult(str(t.path), t.name, item.outcome or Outcome.FAILED, item.reason)

    def _flush(
        self,
        items: list[ParsedFile],
        report: IngestReport,
        emit: ProgressCallback,
        cancel: CancelToken,
        embedded: int,
        finished: int,
        total: int,
    ) -> tuple[int, int]:
        family = [x for it in items for x in it.family()]
        ready = [x for x in family if x.outcome is None]
        texts = [c.indexed_text for it in ready for c in (it.chunks or [])]
        vectors = np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts: list[np.ndarray] = []
        s = 0
        while s < len(order):
            cancel.raise_if_set()
            idx = order[s : s + self._slice]
            s += len(idx)
            t0 = time.monotonic()
            parts.append(self._embed([texts[i] for i in idx], cancel))
            # Longer passages and a busier machine take longer per chunk: size the next
            # call so that Cancel is never more than ~SLICE_SECONDS from being seen.
            per_chunk = (time.monotonic() - t0) / len(idx)
            self._slice = max(MIN_SLICE, min(EMBED_SLICE, int(SLICE_SECONDS / max(per_chunk, 1e-6))))
            embedded += len(idx)
            emit(Progress("embed", finished, total, items[0].target.name, embedded))
        if parts:
            sorted_vecs = np.concatenate(parts)
            vectors = np.empty_like(sorted_vecs)
            vectors[order] = sorted_vecs
        cancel.raise_if_set()
        offset = 0
        written: dict[str, int] = {}  # path -> id: an attachment is written after its message
        for it in family:
            parent_id = written.get(it.parent) if it.parent else None
            if it.outcome is Outcome.FAILED:  # an attachment that failed alone
                self.manifest.record_failure(path=str(it.target.path), name=it.target.name,
                                             kind=it.target.path.suffix.lower().lstrip("."),
                                             reason=it.reason, size=it.size, parent_id=parent_id)
                report.results.append(FileResult(str(it.target.path), it.target.name, Outcome.FAILED, it.reason))
                continue
            assert it.doc is not None and it.chunks is not None
            n = len(it.chunks)
            vecs = vectors[offset : offset + n]
            offset += n
            replaced_before = self.manifest.find_document(str(it.target.path))
            # A replaced message takes its old attachments with it (the manifest cascades).
            old_family = self.manifest.descendants(replaced_before[0]) if replaced_before else []
            doc_id, ids, old_id = self.manifest.begin_document(
                path=str(it.target.path),
                name=it.target.name,
                # A message's hash is recorded once its attachments are written: killed in
                # between, it no longer looks unchanged and is read again whole.
                sha256="" if it.children else it.sha256,
                size=it.size,
                parsed=it.doc,
                chunks=it.chunks,
                vectors=vecs,
                profile=it.profile,
                parent_id=parent_id,
                mtime=it.mtime,
            )
            written[str(it.target.path)] = doc_id
            for gone in [*([old_id] if old_id is not None else []), *old_family]:
                self.index.delete_document(gone)
            if ids:
                self.index.add(ids, vecs, [doc_id] * len(ids))
            self.manifest.mark_ready(doc_id)
            if it.note:
                self.manifest.set_note(doc_id, it.note)
            was_ready = replaced_before is not None and replaced_before[2] == "ready"
            outcome = Outcome.REPLACED if was_ready else Outcome.INDEXED
            report.results.append(
                FileResult(str(it.target.path), it.target.name, outcome, "", len(it.doc.pages), n, it.note)
            )
            if it.parent:
                continue  # progress counts the files the user chose, not their attachments
            finished += 1
            emit(Progress("embed", finished, total, it.target.name, embedded))
        for it in family:
            if it.children and str(it.target.path) in written:
                self.manifest.set_sha256(written[str(it.target.path)], it.sha256)
        release_free_memory()  # see rag/ingest/memory.py: without it RSS grows ~3 MB per document
        return embedded, finished
