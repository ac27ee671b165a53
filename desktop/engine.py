"""The desktop's bridge to the engine: ingest, questions and the model, all as jobs.

Ingest for a library runs on that library's lane, model loading and answering on the
single ``"llm"`` lane, so a llama context is only ever used by one thread at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.jobs import Job, JobContext, JobRunner
from desktop.libraries import LibraryFolders
from desktop.settings import Settings
from rag.ask import server_config
from rag.ask.generation import LlamaGenerator
from rag.ask.review.columns import Column
from rag.ask.review.engine import ReviewResult
from rag.ingest.sync import SyncReport
from rag.types import Answer, IngestReport, Quote

if TYPE_CHECKING:  # httpx and TLS load only when a server is used, not at start-up
    from rag.ask.remote import RemoteGenerator

LLM_LANE = "llm"
# An answer that failed on the organisation's server starts with this; the chat offers
# the model on this computer beside it.
SERVER_FAILED = "The server could not answer: "


def ingest_lane(library: str) -> str:
    return f"ingest:{library}"


class NoModel(RuntimeError):
    """A question was answered with its quotes only: no language model can run here."""


def short_reason(reason: str) -> str:
    """The first clause of an engine message, for the status bar ("this computer cannot
    run the language model (…)" → "this computer cannot run the language model")."""
    cut = min((i for i in (reason.find(" ("), reason.find(": ")) if i > 0), default=len(reason))
    return reason[:cut] if cut <= 70 else reason[:67].rstrip() + "…"


def short_backend(backend: str) -> str:
    """``backend`` without the trailing note on builds skipped or a GPU that failed: the
    full reasons go to a tooltip and Settings › Model; the status bar says where it runs."""
    if backend.endswith(")") and ("skipped" in backend or "failed" in backend):
        depth = 0
        for i in range(len(backend) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(backend[i], 0)
            if depth == 0:
                return backend[:i].rstrip()
    return backend


class Engine(QObject):
    model_state_changed = Signal(str)  # the full line (Settings › Model); see model_summary
    library_changed = Signal(str)  # a library's documents changed (after a mutating job)
    # Emitted from whichever thread opened or searched the library; Qt queues them to
    # the UI thread. (library, one line for the user)
    library_noted = Signal(str, str)  # the engine repaired something (index rebuilt)
    library_waiting = Signal(str, str)  # another docqa is making this library: we wait

    def __init__(self, runner: JobRunner, folders: LibraryFolders, models_dir: Path) -> None:
        super().__init__()
        self.runner = runner
        self.folders = folders
        self.models_dir = models_dir
        self.generator: LlamaGenerator | RemoteGenerator | None = None
        self.model_state = "no model loaded"
        self.model_summary = self.model_state  # the status bar's short form
        self.model_error = ""
        folders.on_note = self.library_noted.emit
        folders.on_wait = self.library_waiting.emit
        self.settings: Settings | None = None  # what the model was last loaded with
        self.server_dir: Path | None = None  # where server.json lives (None: docqa's data folder)

    # -- model ----------------------------------------------------------------------------
    def resolve_model_path(self, settings: Settings) -> Path:
        if settings.model_path:
            return Path(settings.model_path)
        from rag.models.defaults import default_llm_path

        return default_llm_path(self.models_dir)

    @property
    def remote(self) -> bool:
        """Whether answers are (to be) written by a server in the organisation."""
        return (self.generator is not None and not isinstance(self.generator, LlamaGenerator)) or server_config.load(self.server_dir).active

    def use_this_computer(self) -> Job | None:
        """The fallback a failed server answer offers: answers from the model on this
        computer from now on (the server's address is kept for later)."""
        config = server_config.load(self.server_dir)
        server_config.save(replace(config, enabled=False), self.server_dir)
        return self.load_model(self.settings) if self.settings is not None else None

    def _load_remote(self, config: server_config.ServerConfig) -> RemoteGenerator:
        from rag.ask.remote import RemoteGenerator

        gen = RemoteGenerator(config, server_config.ApiKeys(self.server_dir).get(config.url))
        # Kept even when the server does not answer now: each question tries it again
        # (its quotes are shown either way), and the status bar says why.
        self.generator = gen
        gen.warm_up()
        return gen

    def load_model(self, settings: Settings) -> Job:
        """(Re)load the model in the background; questions queue behind it on the same lane."""
        old = self.generator
        self.settings = settings
        self._set_state("loading model…")

        def work(ctx: JobContext) -> LlamaGenerator | RemoteGenerator:
            # The generator is swapped here, on the llm lane, not in a UI slot: a question
            # queued behind this job runs next on the same worker, maybe before the UI
            # thread has seen this job finish.
            self.generator = None
            if old is not None:
                old.close()
            try:
                config = server_config.load(self.server_dir)
                if config.active:
                    remote = self._load_remote(config)
                    self.model_error = ""
                    return remote
                path = self.resolve_model_path(settings)
                gen = LlamaGenerator(
                    path,
                    context_size=settings.context_size,
                    threads=settings.threads or None,
                    gpu=settings.gpu,
                )
                gen.warm_up()
            except Exception as err:
                self.model_error = str(err)
                raise
            self.model_error = ""
            self.generator = gen
            return gen

        job = self.runner.submit("Loading the model", LLM_LANE, work)
        job.finished.connect(self._on_model_loaded)
        job.failed.connect(self._on_model_failed)
        return job

    def _on_model_loaded(self, gen: LlamaGenerator | RemoteGenerator) -> None:
        # The prompt speed says how much of the sources an answer can read quickly here.
        speed = f" · reads {gen.prompt_rate:,.0f} tokens/s" if gen.prompt_rate else ""
        if not isinstance(gen, LlamaGenerator):  # a server in the organisation
            self._set_state(f"{gen.backend} · context {gen.context_size}{speed}")
            return
        self._set_state(f"{gen.model_path.name} · {gen.backend} · context {gen.context_size}{speed}",
                        f"{gen.model_path.name} · {short_backend(gen.backend)} · context {gen.context_size}{speed}")

    def _on_model_failed(self, reason: str) -> None:
        self._set_state(f"model not loaded: {reason}",
                        f"Quotes only: {short_reason(reason)}")

    def _set_state(self, text: str, summary: str = "") -> None:
        self.model_state = text
        self.model_summary = summary or text
        self.model_state_changed.emit(text)

    # -- library work ---------------------------------------------------------------------
    def ingest(self, library: str, paths: Sequence[str | Path]) -> Job:
        lib = self.folders.open(library)

        def work(ctx: JobContext) -> IngestReport:
            return lib.ingest(list(paths), progress=ctx.progress, cancel=ctx.token)

        job = self.runner.submit(f"Adding documents to {library}", ingest_lane(library), work)
        job.ended.connect(lambda: self.library_changed.emit(library))
        return job

    def remove(self, library: str, doc_ids: Sequence[int]) -> Job:
        lib = self.folders.open(library)
        ids = list(doc_ids)
        job = self.runner.submit("Removing documents", ingest_lane(library),
                                 lambda ctx: lib.remove(ids, progress=ctx.progress))
        job.ended.connect(lambda: self.library_changed.emit(library))
        return job

    def sync(self, library: str, paths: Sequence[str | Path] | None = None) -> Job:
        """Bring the library in line with its folders (or only ``paths``, e.g. a watched
        folder that changed): the same engine code as ``docqa sync``."""
        lib = self.folders.open(library)
        chosen = list(paths) if paths else None

        def work(ctx: JobContext) -> SyncReport:
            return lib.sync(chosen, progress=ctx.progress, cancel=ctx.token)

        job = self.runner.submit(f"Syncing {library} with its folders", ingest_lane(library), work)
        job.ended.connect(lambda: self.library_changed.emit(library))
        return job

    def ask(self, library: str, question: str, k: int, documents: Sequence[int] | None = None) -> Job:
        """Answer on the llm lane. ``progressed`` first carries the verbatim quotes, once, as
        a ``list`` of :class:`rag.types.Quote` (as soon as retrieval is done, before any
        text is generated), then each generated piece of text as a ``str``. With
        ``documents`` (ids) retrieval stays inside those documents."""
        lib = self.folders.open(library)
        chosen = list(documents) if documents else None

        def work(ctx: JobContext) -> Answer:
            from rag.ask.remote_http import RemoteError

            gen = self.generator
            if gen is None:
                # Quotes need no model: a model that cannot run here (or a damaged file)
                # still leaves the answer's evidence on the screen, as `docqa ask` does.
                quotes = lib.quotes_first(question, k=k, documents=chosen)
                ctx.progress(quotes)
                reason = short_reason(self.model_error or "the language model is not loaded")
                raise NoModel(f"{reason}; " + ("the quotes above are taken word for word from the documents"
                                               if quotes else "and nothing in this library matches the question"))

            def on_quotes(quotes: list[Quote]) -> None:
                ctx.progress(list(quotes))

            try:
                return lib.ask(question, gen, k=k, on_token=ctx.progress, on_quotes=on_quotes, cancel=ctx.token,
                               documents=chosen)
            except RemoteError as err:
                raise RuntimeError(SERVER_FAILED + str(err)) from None

        job = self.runner.submit("Answering", LLM_LANE, work)
        job.ended.connect(self._refresh_state)  # the prompt speed follows each answer
        return job

    def review(self, library: str, columns: Sequence[Column], documents: Sequence[int] | None = None) -> Job:
        """Fill a review grid on the library's own lane (its vector store and manifest have
        one owner; an ingest queues behind, so a new document's row is filled after it).
        ``progressed`` carries each :class:`Cell` as it is done, then its
        :class:`ReviewProgress`; Cancel stops between cells, the result keeps those done."""
        lib = self.folders.open(library)
        cols = list(columns)
        chosen = list(documents) if documents is not None else None

        def work(ctx: JobContext) -> ReviewResult:
            return lib.review(cols, chosen, on_cell=ctx.progress, on_progress=ctx.progress, cancel=ctx.token)

        return self.runner.submit(f"Reviewing {library}", ingest_lane(library), work)

    def _refresh_state(self) -> None:
        if self.generator is not None and self.generator.loaded:
            self._on_model_loaded(self.generator)
        elif self.generator is not None:  # a server that did not answer: tried at each question
            self._set_state(f"{self.generator.backend} · not reachable now")

    def ingest_busy(self, library: str) -> bool:
        return bool(self.runner.active(ingest_lane(library)))

    def shutdown(self) -> None:
        self.runner.shutdown()
        if self.generator is not None:
            self.generator.close()
        self.folders.close_all()
