"""Uploaded files become a matter's documents: parsed by the same parsers as on a laptop,
in a worker process (rag/ingest/parsing/isolated.py: a file that hangs or crashes its
parser fails alone), chunked, embedded, and written to the PostgreSQL store in one
transaction as the user who uploaded it (so row-level security checks the matter again).

Jobs run one at a time on one thread per worker; each keeps its progress in memory for
``GET /matters/{matter}/ingest/{job}``. An upload is deleted as soon as it is read.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.ingest.chunking import ChunkerConfig, StructuredChunker
from rag.ingest.parsing.isolated import IsolatedParser
from rag.ingest.parsing.registry import ParserRegistry
from rag.protocols import ParseError
from team import audit
from team.accounts import User
from team.db import Pool

log = logging.getLogger("docqa.server")

EMBED_BATCH = 64  # passages per encode call: progress moves at least this often


@dataclass
class Job:
    id: int
    user: User
    matter: str
    matter_id: int
    name: str
    path: Path
    state: str = "queued"  # queued, parsing, embedding, writing, done, failed
    done: int = 0
    total: int = 0
    message: str = ""
    doc_id: int | None = None
    passages: int = 0
    finished: threading.Event = field(default_factory=threading.Event)

    def to_json(self) -> dict[str, Any]:
        return {"job": self.id, "matter": self.matter, "file": self.name, "state": self.state,
                "done": self.done, "total": self.total, "message": self.message,
                "doc_id": self.doc_id, "passages": self.passages}


class IngestQueue:
    def __init__(self, pool: Pool, engine: Any, settings: Any) -> None:
        self.pool = pool
        self.engine = engine
        self.registry = ParserRegistry()
        self.chunker = StructuredChunker(ChunkerConfig())
        self._own_dir = settings.upload_dir is None
        self.dir = Path(settings.upload_dir or tempfile.mkdtemp(prefix="docqa-uploads-"))
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, name=f"ingest-{i}", daemon=True)
                         for i in range(max(1, settings.ingest_workers))]
        for t in self._threads:
            t.start()

    def supports(self, name: str) -> bool:
        return self.registry.supports(Path(name))

    def new_path(self, name: str) -> Path:
        """Where an upload waits: a private folder of its own, under the file's own name
        (parsers go by the suffix)."""
        folder = Path(tempfile.mkdtemp(dir=self.dir))
        return folder / Path(name).name

    def submit(self, user: User, matter: str, matter_id: int, name: str, path: Path) -> Job:
        job = Job(next(self._ids), user, matter, matter_id, name, path)
        self.jobs[job.id] = job
        self._queue.put(job)
        return job

    def get(self, job_id: int, matter_id: int) -> Job | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.matter_id == matter_id else None

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=5)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _work(self) -> None:
        parser = IsolatedParser(self.registry)
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                try:
                    self._run(job, parser)
                except Exception as err:
                    log.exception("ingest of %s failed", job.name)
                    job.state, job.message = "failed", (str(err) if isinstance(err, ParseError)
                                                        else "the server could not store this file")
                    self._audit(job, "failed", reason=job.message[:200])
                finally:
                    shutil.rmtree(job.path.parent, ignore_errors=True)
                    job.finished.set()
        finally:
            parser.close()

    def _run(self, job: Job, parser: IsolatedParser) -> None:
        job.state = "parsing"
        data = job.path.read_bytes()
        parsed = parser.parse(job.path)
        chunks = self.chunker.chunk(parsed)
        if not chunks:
            raise ParseError("no text found in this file")
        job.state, job.total = "embedding", len(chunks)
        parts = []
        for i in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[i:i + EMBED_BATCH]
            parts.append(self.engine.embedder.embed([c.indexed_text for c in batch]))
            job.done = i + len(batch)
        vectors = np.concatenate(parts)
        job.state = "writing"
        # The store writes the document in a transaction of its own as the user (row-level
        # security checks the matter once more); its audit row follows in another.
        with self.pool.connection() as conn:
            store = self.engine.open_store(conn, job.matter_id, job.user.id)
            doc_id, ids = store.add_document(path=job.name, name=job.name, sha256=hashlib.sha256(data).hexdigest(),
                                             size=len(data), parsed=parsed, chunks=chunks, vectors=vectors)
        with self.pool.transaction(job.user.id) as db:
            audit.record(db, job.user.name, "ingest", matter=job.matter, passage_ids=ids[:1000],
                         file=job.name, doc_id=doc_id, passages=len(ids))
        job.doc_id, job.passages, job.state = doc_id, len(ids), "done"

    def _audit(self, job: Job, outcome: str, **detail: Any) -> None:
        try:
            with self.pool.transaction(job.user.id) as db:
                audit.record(db, job.user.name, "ingest", matter=job.matter, outcome=outcome,
                             file=job.name, **detail)
        except Exception:
            log.exception("could not audit the ingest of %s", job.name)
