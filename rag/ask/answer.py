"""Turn retrieved passages into a grounded, cited answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from rag.ask.checker import check_answer, cited_numbers, content_words, ground_uncited
from rag.cancel import CancelToken
from rag.protocols import Generator
from rag.types import Answer, Citation, Passage, Quote, Support

__all__ = ["EMPTY_LIBRARY", "NOT_FOUND", "NOT_STATED", "answer", "cited_numbers", "fit_passages"]

# With quotes, which passages the model also reads in full: "all", or "unquoted" (only
# those no quote comes from). Measured with Gemma 3 270M on 15 cuad-dev questions
# (tests/bench/answer_bench.py --generate 15 --prompt ...): "unquoted" had 58% of its
# sentences supported against 44% for "all" and 40% for the prompt before quotes, and its
# first token came in 2.2 s rather than 3.2 s.
PROMPT_PASSAGES = "unquoted"

# The sources (quotes, then passages) put into the prompt are as many as the model reads
# in PROMPT_SECONDS at the prompt speed it showed on this machine (measured at load, then
# followed answer by answer: rag/ask/generation.py), the quotes taking at most QUOTE_SHARE of
# them: on a CPU the first token waits for every prompt token. The reader still sees every
# quote and citation; a GPU reads thousands of tokens a second and is not limited.
# Measured with Gemma 3 270M on a 2-core CPU (~850 tokens/s), 40 cuad-dev questions and
# 30 unanswerable ones on the default library (tests/bench/answer_bench.py --generate 40
# --prompt-seconds S --quote-share Q): question to first token p50 (p90) / sentences
# supported / answers citing a source / unanswerable declined:
#   no limit (~1,630 tokens)     2.11 s (3.45)  0.429 of 42  0.250  0.933
#   1.35 s, quotes 1.0 (1,100)   1.24 s (1.30)  0.325 of 40  0.225  0.900
#   1.35 s, quotes 0.6 (988)     1.22 s (1.37)  0.286 of 42  0.250  1.000
#   1.35 s, quotes 0.4 (1,082)   1.23 s (1.35)  0.283 of 46  0.350  0.967
#   1.5 s, quotes 0.6 (1,166)    1.34 s (1.48)  0.385 of 52  0.375  1.000   <- chosen
# The small model's figures are noisy (one sentence is 0.02; on a library embedded to 256
# tokens, 1.35 s with quotes 0.6 had 0.458 of 48 against 0.439 of 41 for no limit).
# MIN_SOURCE_TOKENS keeps the best quotes on a slow machine, at the cost of its speed.
PROMPT_SECONDS: float | None = 1.5  # None: every source the context holds
MIN_SOURCE_TOKENS = 512
QUOTE_SHARE = 0.6
# A fixed number of tokens instead (None: the time budget above decides).
PROMPT_TOKENS: int | None = None

# Small models follow a short, concrete format better than a list of principles: the
# exact wording comes first (the quotes), then the passages for context, and the answer is
# one sentence per claim, each ending with its [n] (measured: tests/bench/answer_bench.py).
SYSTEM_PROMPT = (
    "Answer the question using only the numbered sources. Write one short sentence per "
    "fact and end each sentence with the number of its source, like [1]. Copy names, "
    "numbers, dates and places exactly as the source writes them. If the sources do not "
    "answer the question, write only: The documents do not say."
)

NOT_FOUND = (
    "I could not find anything about this in the documents of this library, "
    "so I cannot answer it from them."
)
NOT_STATED = "The documents do not state this directly; the closest wording is quoted above."
EMPTY_LIBRARY = "This library has no documents yet. Add documents, then ask again."

def format_source(n: int, p: Passage) -> str:
    where = f"{p.file}, page {p.page}"
    if p.heading:
        where += f", section: {p.heading.split(' > ')[-1]}"
    return f"[{n}] {where}\n{p.text.strip()}"


def format_quote(q: Quote) -> str:
    return f"[{q.n}] \u201c{' '.join(q.text.split())}\u201d"


def _quote_block(quotes: Sequence[Quote]) -> str:
    return ("Key quotes:\n" + "\n".join(format_quote(q) for q in quotes) + "\n\n") if quotes else ""


def build_user_prompt(question: str, sources: Sequence[str], quotes: Sequence[Quote] = ()) -> str:
    return _quote_block(quotes) + "Sources:\n\n" + "\n\n".join(sources) + f"\n\nQuestion: {question.strip()}"


def _fit_quotes(generator: Generator, quotes: list[Quote], tokens: int) -> list[Quote]:
    """The best quotes (they come best first) whose block fits in ``tokens``."""
    while quotes and generator.count_tokens(_quote_block(quotes)) > tokens:
        quotes = quotes[:-1]
    return quotes


def _fit_sources(generator: Generator, sources: list[str], tokens: int, keep_first: bool = True) -> list[str]:
    """The first sources (best first) that fit in ``tokens``; with ``keep_first`` always
    the first one, so that a prompt without quotes still has something to answer from."""
    kept: list[str] = []
    for src in sources:
        tokens -= generator.count_tokens(src) + 2
        if tokens < 0 and (kept or not keep_first):
            break
        kept.append(src)
    return kept


def source_budget(generator: Generator, question: str) -> int | None:
    """Tokens of sources (quotes and passages) for the prompt, None for no limit but the
    context: PROMPT_TOKENS if set, else what the generator reads in PROMPT_SECONDS."""
    if PROMPT_TOKENS is not None:
        return PROMPT_TOKENS
    rate = getattr(generator, "prompt_rate", None)
    if not rate or PROMPT_SECONDS is None:
        return None
    fixed = generator.count_tokens(SYSTEM_PROMPT) + generator.count_tokens(build_user_prompt(question, [])) + 32
    return max(MIN_SOURCE_TOKENS, int(rate * PROMPT_SECONDS) - fixed)


def fit_passages(
    generator: Generator,
    question: str,
    passages: Sequence[Passage],
    answer_tokens: int,
    reserve: int = 0,
) -> list[Passage]:
    """As many passages, best first, as fit the context with room for the answer (and
    ``reserve`` tokens for the quotes)."""
    budget = generator.context_size - answer_tokens - 16 - reserve
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
    quotes: Callable[[Sequence[Passage]], list[Quote]] | None = None,
    on_quotes: Callable[[list[Quote]], None] | None = None,
    on_token: Callable[[str], None] | None = None,
    cancel: CancelToken | None = None,
    answer_tokens: int = 512,
) -> Answer:
    """Quote, then generate an answer from ``passages`` (already judged relevant), streaming
    tokens, then check each generated sentence against the sources it cites.

    ``quotes`` picks the verbatim quotes from the passages the model will see (numbered
    from 1 in their order); ``on_quotes`` receives them before generation starts.
    """
    cancel = cancel or CancelToken()
    answer_tokens = min(answer_tokens, max(64, generator.context_size // 4))
    # The quotes go first in the prompt: passages fill what they leave, and at most half
    # of the room for sources goes to quotes (fewer quotes in a small context).
    room = generator.context_size - answer_tokens - generator.count_tokens(SYSTEM_PROMPT) - 64
    everything = quotes(passages) if quotes is not None else []
    first = _fit_quotes(generator, everything, room // 2)
    reserve = generator.count_tokens(_quote_block(first)) if first else 0
    chosen = fit_passages(generator, question, passages, answer_tokens, reserve)
    if not chosen:
        if on_quotes is not None:
            on_quotes([])
        return Answer(NOT_FOUND, [], generator.backend, grounded=False)
    # Numbers follow the passages the model sees; quotes of passages left out are dropped.
    # The reader sees every quote; a small context gives the model only those that fit.
    picked = everything if quotes is None or chosen == list(passages[: len(chosen)]) else quotes(chosen)
    picked = [q for q in picked if q.n <= len(chosen)]
    budget = source_budget(generator, question)
    prompted = _fit_quotes(generator, picked, reserve if budget is None else min(reserve, int(budget * QUOTE_SHARE)))
    if picked and not prompted:
        prompted = picked[:1]  # the best quote, even when it alone is over the budget
    if on_quotes is not None:
        on_quotes(picked)
    quoted = {q.n for q in prompted} if PROMPT_PASSAGES == "unquoted" else set()
    sources = [format_source(i + 1, p) for i, p in enumerate(chosen) if i + 1 not in quoted]
    if budget is not None:
        sources = _fit_sources(generator, sources, budget - generator.count_tokens(_quote_block(prompted)),
                               keep_first=not prompted)
    user = build_user_prompt(question, sources, prompted)
    parts: list[str] = []
    for piece in generator.stream(SYSTEM_PROMPT, user, answer_tokens, cancel):
        parts.append(piece)
        if on_token is not None:
            on_token(piece)
    text = "".join(parts).strip()
    citations = [Citation(i + 1, p) for i, p in enumerate(chosen)]
    if cancel.is_set:
        return Answer(text, citations, generator.backend, cancelled=True, quotes=picked)
    evidence = {c.n: " ".join([c.passage.text, *(q.text for q in picked if q.n == c.n)]) for c in citations}
    text = settle(ground_uncited(text, [evidence[c.n] for c in citations]), picked, question)
    # Our own notes (NOT_STATED, NOT_FOUND) are not claims about the documents.
    checks = check_answer(text, evidence) if text not in (NOT_STATED, NOT_FOUND) else []
    if picked and checks and not any(c.verdict is Support.SUPPORTED for c in checks):
        # Nothing the model wrote is backed by the sources: say so, the quotes stay first.
        text = f"{text}\n\n{NOT_STATED}"
    return Answer(text, citations, generator.backend, quotes=picked, checks=checks)


_BARE = re.compile(r"^\W*(?:yes|no)\W*(?:\[\d{1,2}\]\W*)*$", re.I)
_YES_NO = re.compile(r"^\W*(?:yes|no)\b[,.;:!\s]*", re.I)


def settle(text: str, quotes: Sequence[Quote], question: str = "") -> str:
    """A bare "Yes."/"No." (or nothing) is never the whole answer: the quotes above decide
    it, and the answer says that the documents do not state it directly. "Yes, the
    licensee may assign." to "May the licensee assign?" is as bare: it only repeats the
    question."""
    if not text.strip() or _BARE.match(text):
        return NOT_STATED if quotes else NOT_FOUND
    m = _YES_NO.match(text)
    if m and question:
        rest = content_words(text[m.end():])
        if len(rest & content_words(question)) >= 0.8 * len(rest):
            return NOT_STATED if quotes else NOT_FOUND
    return text
