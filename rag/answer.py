"""Turn retrieved passages into a grounded, cited answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from rag.cancel import CancelToken
from rag.text import STOPWORDS, stem
from rag.protocols import Generator
from rag.types import Answer, Citation, Passage

SYSTEM_PROMPT = (
    "You answer questions about the user's documents. Use only the numbered sources "
    "provided. After each statement, cite the source numbers in square brackets, "
    "like [1] or [2][3]. If the sources do not contain the answer, say that the "
    "documents do not say. Be concise and exact; quote key wording where it matters."
)

NOT_FOUND = (
    "I could not find anything about this in the documents of this library, "
    "so I cannot answer it from them."
)
EMPTY_LIBRARY = "This library has no documents yet. Add documents, then ask again."

_CITE = re.compile(r"\[(\d{1,2})\]")


def format_source(n: int, p: Passage) -> str:
    where = f"{p.file}, page {p.page}"
    if p.heading:
        where += f", section: {p.heading.split(' > ')[-1]}"
    return f"[{n}] {where}\n{p.text.strip()}"


def build_user_prompt(question: str, sources: Sequence[str]) -> str:
    return "Sources:\n\n" + "\n\n".join(sources) + f"\n\nQuestion: {question.strip()}"


def fit_passages(
    generator: Generator,
    question: str,
    passages: Sequence[Passage],
    answer_tokens: int,
) -> list[Passage]:
    """As many passages, best first, as fit the context with room for the answer."""
    budget = generator.context_size - answer_tokens - 16
    used = generator.count_tokens(SYSTEM_PROMPT) + generator.count_tokens(build_user_prompt(question, [])) + 48
    chosen: list[Passage] = []
    for p in passages:
        cost = generator.count_tokens(format_source(len(chosen) + 1, p)) + 2
        if used + cost > budget:
            if not chosen:
                # The best passage alone is too long for this context: keep its start
                # rather than answer from nothing.
                p = _truncate(generator, p, budget - used)
                if p.text:
                    chosen.append(p)
                    used += generator.count_tokens(format_source(1, p)) + 2
            continue  # a shorter, lower-ranked passage may still fit
        chosen.append(p)
        used += cost
    return chosen


def _truncate(generator: Generator, p: Passage, tokens: int) -> Passage:
    text = p.text
    while text and generator.count_tokens(format_source(1, replace(p, text=text))) + 2 > tokens:
        text = text[: int(len(text) * 0.8)]
    return replace(p, text=text, end=p.start + len(text))


def answer(
    question: str,
    passages: Sequence[Passage],
    generator: Generator,
    *,
    on_token: Callable[[str], None] | None = None,
    cancel: CancelToken | None = None,
    answer_tokens: int = 512,
) -> Answer:
    """Generate an answer from ``passages`` (already judged relevant), streaming tokens."""
    cancel = cancel or CancelToken()
    answer_tokens = min(answer_tokens, max(64, generator.context_size // 4))
    chosen = fit_passages(generator, question, passages, answer_tokens)
    if not chosen:
        return Answer(NOT_FOUND, [], generator.backend, grounded=False)
    sources = [format_source(i + 1, p) for i, p in enumerate(chosen)]
    user = build_user_prompt(question, sources)
    parts: list[str] = []
    for piece in generator.stream(SYSTEM_PROMPT, user, answer_tokens, cancel):
        parts.append(piece)
        if on_token is not None:
            on_token(piece)
    text = "".join(parts).strip()
    if not cancel.is_set:
        text = ground_uncited(text, [p.text for p in chosen])
    citations = [Citation(i + 1, p) for i, p in enumerate(chosen)]
    return Answer(text, citations, generator.backend, cancelled=cancel.is_set)


# -- citations the model left out ---------------------------------------------------------
# Small models often answer correctly but forget the [n]. A statement whose wording is
# found in one source gets that source's number, so every claim stays one click away
# from its evidence. Only wording is compared (no guessing at meaning), and only where the
# match is strong; statements that match no source stay uncited rather than mis-cited.

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_SENTENCE = re.compile(r"(?:[^.!?\n]|\.(?=\d))+(?:[.!?]+|(?=\n)|$)")  # "3.5" stays in one sentence
# The keyword search's stop words, plus what answers say about their own sources.
_STOP = STOPWORDS | frozenset(
    "not but you our one also only more most some very over about after before shall then "
    "they them document documents source sources answer question say".split()
)
MIN_WORDS = 3  # shorter statements ("Yes.") match anything
MIN_COVERAGE = 0.6  # of the statement's content words found in one source


def _content_words(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP}


def ground_uncited(text: str, sources: Sequence[str]) -> str:
    """``text`` with ``[n]`` added after each uncited statement whose content words are
    mostly found in source ``n`` (1-based, the best-covering source)."""
    if not text or not sources:
        return text
    vocab = [_content_words(s) for s in sources]
    out: list[str] = []
    last = 0
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0)
        if _CITE.search(sentence):
            continue
        words = _content_words(sentence)
        if len(words) < MIN_WORDS:
            continue
        coverage = [len(words & v) / len(words) for v in vocab]
        best = max(range(len(vocab)), key=lambda i: coverage[i])
        if coverage[best] < MIN_COVERAGE:
            continue
        body = sentence.rstrip()
        stripped = body.rstrip(".!?")
        at = m.start() + len(stripped)
        out.append(text[last:at] + f" [{best + 1}]")
        last = at
    out.append(text[last:])
    return "".join(out)


def cited_numbers(text: str) -> list[int]:
    """Source numbers the answer text cites, in order of first mention."""
    return list(dict.fromkeys(int(m) for m in _CITE.findall(text)))
