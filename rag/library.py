"""A library: one matter, one folder holding the manifest and the derived vector index.

This is the engine's front door for the CLI and the desktop app. It is the composition
root for one library: the embedder (heavy, shareable between libraries) is passed in.
Everything in the folder that reveals content is encrypted with the library's key
(:mod:`rag.store.keys`): the manifest by SQLCipher, other files sealed (:mod:`rag.store.sealed`);
what happens to the library is written to its audit log (:mod:`rag.privacy.audit`).
Searching and asking it are :mod:`rag.library_questions`, a mixin of :class:`Library`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rag.ask.quotes import QuotePicker
from rag.ask.retrieval import HybridRetriever, RetrievalConfig
from rag.cancel import CancelToken
from rag.ingest.chunking import ChunkerConfig, StructuredChunker
from rag.ingest.parsing.registry import ParserRegistry
from rag.ingest.pipeline import IngestPipeline, ProgressCallback
from rag.ingest.sync import Syncer, SyncReport, exclude, remember
from rag.library_index import IndexUpkeep
from rag.library_questions import Gate, Questions
from rag.library_review import Review
from rag.models.embedder import SentenceTransformerEmbedder
from rag.privacy import egress
from rag.privacy.audit import AUDIT_FILE, AuditLog
from rag.protocols import Embedder, VectorIndex
from rag.store.database import MigrationProgress, is_plaintext
from rag.store.disk import (
    MANIFEST_FILE,
    WRITTEN,
    CatalogueDamaged,
    LibraryError,
    LibraryReadOnly,
    ReadOnlyAuditLog,
    check_files,
    data_folders,
    first_missing,
    make_private,
    open_manifest,
    private_umask,
    writable,
)
from rag.store.index_repair import INDEX_DIR, GuardedIndex
from rag.store.keys import KEY_FILE, KeySource
from rag.store.lock import DEFAULT_TIMEOUT, WriteLock
from rag.store.sealed import Sealer
from rag.store.sqlite_store import SqlCipherStore
from rag.store.vectors import ChromaIndex
from rag.store.vectors_memory import MemoryIndex
from rag.types import DocumentInfo, IngestReport, Outcome, Progress

__all__ = ["INDEX_DIR", "MANIFEST_FILE", "CatalogueDamaged", "Library", "LibraryError", "LibraryReadOnly",
           "delete_library"]

GENERATION_KEY = "write_generation"  # changes with every write session, whoever wrote
TEMP_DIR = ".tmp"  # parsers' scratch files, inside the library and removed after each ingest


class Library(IndexUpkeep, Questions, Review):
    def __init__(
        self,
        root: Path,
        embedder: Embedder | None = None,
        *,
        chunker: StructuredChunker | None = None,
        retrieval: RetrievalConfig | None = None,
        keys: KeySource | None = None,
        migration: MigrationProgress | None = None,
        lock_timeout: float = DEFAULT_TIMEOUT,
        on_wait: Callable[[str], None] | None = None,
        notes: Callable[[str], None] | None = None,
    ) -> None:
        """Opens (or creates) the library at ``root``. ``keys`` finds its key (by default:
        the OS keychain, else ``DOCQA_PASSPHRASE``); a wrong or missing key raises
        :class:`rag.store.keys.KeyUnavailable` before any file is touched. A library from before
        encryption is encrypted here, reporting to ``migration``. A new library is made by
        one process at a time: another one making it is waited for (``on_wait`` hears so at
        once, not after it finished) at most ``lock_timeout`` seconds. ``notes`` hears what
        was repaired on the way (one line each), e.g. a damaged search index rebuilt.
        A library this account cannot write is opened read-only (:attr:`read_only`)."""
        self.root = Path(root)
        self._note = notes or (lambda line: None)
        private_umask()
        created = first_missing(self.root)
        self.read_only = created is None and not writable(self.root, WRITTEN)
        try:
            self._open(embedder, chunker, retrieval, keys, migration, lock_timeout, on_wait)
        except BaseException:
            if hasattr(self, "index"):
                self.index.close()
            if hasattr(self, "manifest"):
                self.manifest.close()
            if created is not None:
                # A first run that refused (no passphrase, say) leaves nothing behind.
                if hasattr(self, "keys"):
                    self.keys.forget(self.root)
                shutil.rmtree(created, ignore_errors=True)
            raise

    def _open(
        self,
        embedder: Embedder | None,
        chunker: StructuredChunker | None,
        retrieval: RetrievalConfig | None,
        keys: KeySource | None,
        migration: MigrationProgress | None,
        lock_timeout: float,
        on_wait: Callable[[str], None] | None,
    ) -> None:
        if not self.read_only:
            self.root.mkdir(parents=True, exist_ok=True)
            make_private(self.root, data_folders(self.root))
            shutil.rmtree(self.root / TEMP_DIR, ignore_errors=True)  # left by a crash
        self.embedder: Embedder = embedder or SentenceTransformerEmbedder()
        self.keys = keys or KeySource()
        self.lock = WriteLock(self.root)
        self.lock_timeout = lock_timeout
        check_files(self.root, self.root / KEY_FILE, self.root / AUDIT_FILE)
        had_key = self.keys.exists(self.root)
        migrating = is_plaintext(self.root / MANIFEST_FILE)
        if self.read_only and (migrating or not had_key):
            raise LibraryReadOnly(self.root)  # making its key or encrypting it is writing
        # Making the key and the encrypted manifest is writing: two processes opening a new
        # (or a not yet encrypted) library at once would each make a key of their own.
        first = not had_key or migrating
        if first:
            self.lock.acquire(self.lock_timeout, on_wait)
        try:
            had_key = self.keys.exists(self.root)
            key = self._key = self.keys.get(self.root)
            migrating = is_plaintext(self.root / MANIFEST_FILE)
            self.manifest = open_manifest(self.root, key.derive("manifest"), migration, self.read_only)
        finally:
            if first:
                self.lock.release()
        self.key_source = key.source
        self.files = Sealer(key.derive("files"))
        self.audit = (ReadOnlyAuditLog if self.read_only else AuditLog)(
            self.root / AUDIT_FILE, key.derive("audit"), self.files,
            anchor_get=lambda: self.manifest.get_meta("audit_head"),
            anchor_set=lambda head: self.manifest.set_meta("audit_head", head))
        if not had_key:
            self.audit.record("key created", store=key.source)
        if migrating:
            self.audit.record("library encrypted")
        self.audit.record("library opened", key=key.source)
        self._unsubscribe = egress.subscribe(
            lambda a: self.audit.record("connection blocked", to=a.target, via=a.event))
        # Chroma writes to its folder even to read: a read-only library is searched with
        # the manifest's own vectors.
        inner: VectorIndex = MemoryIndex(self.manifest) if self.read_only else ChromaIndex(self.root / INDEX_DIR)
        self.index = GuardedIndex(inner, self._index_failed)
        self.registry = ParserRegistry()
        self.chunker = chunker or StructuredChunker(ChunkerConfig())
        # What retrieval reads (rag/protocols.py Store); the pipeline writes the two itself.
        self.store = SqlCipherStore(self.manifest, self.index)
        self.retriever = HybridRetriever(self.store, self.embedder, retrieval)
        self.quotes = QuotePicker(self.embedder, self.store.page_text)
        self.gate = Gate()
        self._check_embedder()
        self._generation = self.manifest.get_meta(GENERATION_KEY)
        # Another process writing right now will finish its own work: recovering under
        # it would mark its half-sent documents ready and rebuild its index.
        if not self.read_only and self.lock.try_acquire():
            try:
                self.recover()
            finally:
                self.lock.release()

    @property
    def name(self) -> str:
        return self.root.name

    def close(self) -> None:
        self._unsubscribe()
        self.index.close()
        self.manifest.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one writer at a time -------------------------------------------------------------
    @contextmanager
    def writing(
        self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> Iterator[None]:
        """Hold the library's write lock (waiting for another process, saying so through
        ``progress`` as a ``"waiting"`` event) and work on what that process wrote."""
        def waiting(message: str) -> None:
            if progress is not None:
                progress(Progress("waiting", 0, 0, message=message))

        self.require_writable()
        self.lock.acquire(self.lock_timeout, waiting, cancel)
        try:
            if self.lock.depth == 1:
                self._catch_up()
                # Marked at the start too: a writer killed halfway still tells the others
                # to reopen the index and finish its work.
                self._new_generation()
            yield
        finally:
            if self.lock.depth == 1:
                self._new_generation()
            self.lock.release()

    def require_writable(self) -> None:
        """Refuse a change to a library opened read-only (:class:`LibraryReadOnly`)."""
        if self.read_only:
            raise LibraryReadOnly(self.root)

    def _new_generation(self) -> None:
        self._generation = uuid.uuid4().hex  # ours first: a search meanwhile sees no change
        self.manifest.set_meta(GENERATION_KEY, self._generation)

    def _catch_up(self) -> None:
        """Another process wrote since this one last did: Chroma keeps its index in this
        process's memory, so it is reopened from disk before we add to it (writing from a
        stale copy would drop the other's vectors), and an interrupted write completed."""
        if self.manifest.get_meta(GENERATION_KEY) == self._generation:
            return
        self.index.close()
        self.recover()
        self._generation = self.manifest.get_meta(GENERATION_KEY)

    def refresh(self) -> None:
        """For a reader: see what another process wrote, if no one is writing right now
        (a reader never waits; until then it reads what was there)."""
        if self.read_only:
            return  # nobody may write it here; what another account writes shows next open
        if self.manifest.get_meta(GENERATION_KEY) == self._generation or not self.lock.try_acquire():
            return
        try:
            self._catch_up()
        finally:
            self.lock.release()

    # -- consistency ---------------------------------------------------------------------
    def _check_embedder(self) -> None:
        name = getattr(self.embedder, "name", "")
        known = self.manifest.get_meta("embedder")
        if known is None:
            if not self.read_only:
                self.manifest.set_meta("embedder", name)
        elif known != name:
            raise LibraryError(
                f"this library was indexed with the embedding model '{known}', not '{name}'; "
                "re-index it or choose that model"
            )

    # -- documents -----------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | Path],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> IngestReport:
        with self.writing(progress, cancel), self._scratch() as tmp:
            remember(self.manifest, paths)
            report = self._pipeline(tmp).run(paths, progress, cancel)
        # Counts only: the log is readable by anyone with the file (only forging it needs
        # the key), so file names stay out of it.
        counts = {o.value: report.count(o) for o in Outcome if report.count(o)}
        self.audit.record("documents added", counts=counts, stopped=report.cancelled)
        return report

    @contextmanager
    def _scratch(self) -> Iterator[Path]:
        """A folder for parsers' temporary files, inside the library (so they are never
        left in a shared /tmp), removed when the work ends."""
        tmp = self.root / TEMP_DIR
        tmp.mkdir(exist_ok=True)
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _pipeline(self, temp_dir: Path | None = None) -> IngestPipeline:
        return IngestPipeline(self.manifest, self.index, self.embedder, self.registry, self.chunker,
                              temp_dir=temp_dir)

    def sync(
        self,
        paths: Sequence[str | Path] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> SyncReport:
        """Bring the library in line with the folders and files it was built from (or
        only with ``paths``): see :mod:`rag.ingest.sync`."""
        with self.writing(progress, cancel), self._scratch() as tmp:
            report = Syncer(self.manifest, self.index, self.registry, self._pipeline(tmp)).run(
                paths, progress, cancel)
        # Counts only, as for ingest: no file names in the log.
        self.audit.record("library synced", added=len(report.added), updated=len(report.updated),
                          removed=len(report.removed), moved=len(report.moved),
                          failed=len(report.failed), stopped=report.cancelled)
        return report

    def documents(self) -> list[DocumentInfo]:
        return self.manifest.documents()

    def find(self, ref: str) -> list[DocumentInfo]:
        """Documents matching a name as listed, an absolute path, or a base name."""
        docs = self.documents()
        p = Path(ref).expanduser()
        try:
            absolute = str(p.resolve()) if p.exists() else ""
        except (OSError, ValueError):  # a path this account may not look into, a NUL: not a file here
            absolute = ""
        exact = [d for d in docs if d.name == ref or d.path == ref or (absolute and d.path == absolute)]
        if exact:
            return exact
        return [d for d in docs if Path(d.name).name == Path(ref).name]

    def remove(self, doc_ids: Sequence[int], progress: ProgressCallback | None = None) -> None:
        """Remove documents from the library (never from disk), from both stores; an
        e-mail's attachments go with it, and a sync does not bring them back."""
        with self.writing(progress):
            paths = {d.id: d.path for d in self.documents()}
            exclude(self.manifest, [paths[i] for i in doc_ids if i in paths])
            for doc_id in doc_ids:
                family = self.manifest.descendants(doc_id)
                self.manifest.delete_document(doc_id)
                for member in [doc_id, *family]:
                    self.index.delete_document(member)
            # Review cells quote the document: they go with it (its row leaves every grid).
            self.grids.prune(set(self._shas().values()))
        self.audit.record("documents removed", ids=[int(d) for d in doc_ids])

    def set_logs_question_text(self, on: bool) -> None:
        self.require_writable()
        super().set_logs_question_text(on)

    def page_text(self, doc_id: int, page: int) -> str:
        return self.manifest.page_text(doc_id, page)

    # -- key and audit log ---------------------------------------------------------------
    def change_key(self, store: str, passphrase: str = "") -> None:
        """Keep the key in the keychain, or behind a (new) passphrase (see KeySource.change)."""
        self.require_writable()
        self._key = self.keys.change(self.root, self._key, store, passphrase)
        self.key_source = self._key.source
        self.audit.record("key changed", store=self._key.source)

    def record_export(self, fmt: str, exchanges: int) -> None:
        """Note in the audit log that answers left the app (format and count, no content)."""
        self.audit.record("export", format=fmt, exchanges=exchanges)


def delete_library(root: Path, keys: KeySource | None = None) -> None:
    """Delete a library: its key from the keychain, then its folder (never the user's
    documents). Without its key, what might survive on disk can no longer be read."""
    (keys or KeySource()).forget(Path(root))
    shutil.rmtree(root, ignore_errors=True)
