"""Asking a library: searching it, quoting what answers a question, the gate that
declines when nothing does, and the answer itself; and what the audit log keeps of
each question.

A mixin of :class:`rag.library.Library` (which opens the stores and the models), kept
apart so that the library module stays about one thing: its lifecycle, its key and
its documents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.ask.answer import EMPTY_LIBRARY, NOT_FOUND, answer
from rag.ask.quotes import QuotePicker, topic_words
from rag.ask.quotes import Relevance as QuoteRelevance
from rag.ask.retrieval import HybridRetriever
from rag.cancel import CancelToken
from rag.privacy.audit import AuditLog
from rag.protocols import Generator, OffsiteGenerator
from rag.store.manifest import Manifest
from rag.types import Answer, Passage, Quote


@dataclass(frozen=True)
class Gate:
    """Whether the library holds anything to answer from, judged on the best quote (its
    meaning, its share of the question's words) and on whether the question uses words
    the library never does ("metformin" in a library of contracts). Thresholds measured
    on cuad-dev questions against unrelated clinical, legal and general ones
    (tests/bench/answer_bench.py)."""

    min_score: float = 0.5  # QuotePicker score of the best sentence
    min_score_unknown: float = 0.8  # ... when some of the question's words are nowhere

    def admits(self, rel: QuoteRelevance, unknown: Sequence[str]) -> bool:
        return rel.score >= (self.min_score_unknown if unknown else self.min_score)


class Questions:
    """Questions to a library; needs its stores, models and gate, and ``refresh``."""

    manifest: Manifest
    retriever: HybridRetriever
    quotes: QuotePicker
    gate: Gate
    audit: AuditLog
    refresh: Callable[[], None]

    def search(self, query: str, k: int = 8, documents: Sequence[int] | None = None) -> list[Passage]:
        """Passages that answer ``query``; with ``documents`` (ids), from those only."""
        self.refresh()
        self._record_question("search", query)
        return self.retriever.search(query, k, documents)

    def _record_question(self, event: str, text: str) -> None:
        """A keyed hash of the question; its text too, sealed, if the user opted in."""
        extra = {"text": self.audit.seal_text(text)} if self.logs_question_text else {}
        self.audit.record(event, q=self.audit.question_hash(text), **extra)

    @property
    def logs_question_text(self) -> bool:
        return self.manifest.get_meta("audit_question_text") == "1"

    def set_logs_question_text(self, on: bool) -> None:
        """Opt in (or out) of keeping questions' text in the audit log (sealed)."""
        if on != self.logs_question_text:
            self.manifest.set_meta("audit_question_text", "1" if on else "0")
            self.audit.record("setting changed", question_text=on)

    def quote(self, question: str, passages: Sequence[Passage]) -> tuple[list[Quote], QuoteRelevance]:
        """The verbatim quotes that answer ``question`` from ``passages`` (numbered 1..)."""
        focus = self._focus(question)
        quotes, rel = self.quotes.pick(focus, passages)
        if focus != question and not self.answerable(question, rel):
            # The words naming a document can be what is asked too: "How soon should the
            # cardiology review be booked?" names the e-mail by its subject, which is also
            # the question's topic. Judged on the whole question as well, before declining.
            whole = self.quotes.pick(question, passages)
            if whole[1].score > rel.score:
                return whole
        return quotes, rel

    def quotes_first(self, question: str, *, k: int = 8, documents: Sequence[int] | None = None) -> list[Quote]:
        """The quotes an answer to ``question`` starts with, found without a language model
        (empty when the answer will decline): shown before any model is loaded, and all a
        user gets when none can be. :meth:`ask` numbers its quotes the same way."""
        if self.manifest.count_chunks() == 0:
            return []
        passages = self.retriever.search(question, k, documents)
        quotes, rel = self.quote(question, passages)
        return quotes if passages and self.answerable(question, rel) else []

    def answerable(self, question: str, rel: QuoteRelevance) -> bool:
        """Whether the library holds something to answer ``question`` from (the gate)."""
        return self.gate.admits(rel, self.unknown_words(question))

    def unknown_words(self, question: str) -> list[str]:
        """The words of what the question asks that no passage of the library uses."""
        return self.manifest.unknown_words(topic_words(self._focus(question)))

    def _focus(self, question: str) -> str:
        """What the question asks, without the words that name its document: "Acme Labs"
        says which contract, not which sentence of it answers."""
        named, rest = self.retriever.find_documents(question)
        return rest if named and rest.strip() else question

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
        """Retrieve, quote, then generate. ``on_quotes`` receives the verbatim quotes (or an
        empty list when the answer declines) before generation starts; ``on_token`` each
        generated piece. With ``documents`` (ids) the answer comes from those only."""
        self._record_question("question", question)
        if self.manifest.count_chunks() == 0:
            if on_quotes is not None:
                on_quotes([])
            return Answer(EMPTY_LIBRARY, [], generator.backend, grounded=False)
        passages = self.retriever.search(question, k, documents)
        first, rel = self.quote(question, passages)
        if not passages or not self.answerable(question, rel):
            # Nothing here answers it: say so rather than let a model invent an answer.
            if on_quotes is not None:
                on_quotes([])
            return Answer(NOT_FOUND, [], generator.backend, grounded=False)
        n = self.quotes.config.passages

        def quotes(chosen: Sequence[Passage]) -> list[Quote]:
            # The passages the model sees are usually the ones just quoted: quote once.
            return first if list(chosen[:n]) == list(passages[:n]) else self.quote(question, chosen)[0]

        def run() -> Answer:
            return answer(
                question, passages, generator, quotes=quotes,
                on_quotes=on_quotes, on_token=on_token, cancel=cancel, answer_tokens=max_tokens,
            )

        if isinstance(generator, OffsiteGenerator):
            off = generator
            with off.reporting(lambda chars: self._record_remote(question, off, chars)):
                return run()
        return run()

    def _record_remote(self, question: str, generator: OffsiteGenerator, chars: int) -> None:
        """Before a prompt leaves for the server: which server and model, and how much
        is sent (the question's text too, sealed, only if the user opted in)."""
        extra = {"text": self.audit.seal_text(question)} if self.logs_question_text else {}
        self.audit.record("remote generation", server=generator.server, model=generator.model,
                          chars=chars, q=self.audit.question_hash(question), **extra)
