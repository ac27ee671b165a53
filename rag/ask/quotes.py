"""The clause first, verbatim: the few sentences of the retrieved passages that answer.

Before any model writes a word, the reader sees the exact wording that decides the
question, each quote with the number of the passage it comes from. Sentences (and
clauses: "(a) ...; (b) ...", a lead-in and its items) of the best passages are scored
against the question by meaning (the embedder that is already loaded) and by the share
of the question's rarer words they hold; the best few become quotes, widened to whole
clauses. Deterministic, no language model, a few tens of milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.ask.section_quotes import is_labelled_answer, section_bonus, section_bounds
from rag.ask.sentences import blocks, is_list_item, spans
from rag.protocols import Embedder
from rag.text import keywords, stem
from rag.types import Passage, Quote

# Words a question uses to ask, not to say what it is about.
_ASK = frozenset(
    """what which who whom whose how why when where does do did is are was were there any
    contract agreement document documents clause clauses provision provisions provide provides
    state states say says mention mentions specify specifies term terms this that our
    please tell me give list show find describe explain""".split()
)

MIN_QUOTE = 120  # characters: a shorter quote (a heading) takes the sentence after it

PageText = Callable[[int, int], str]  # (doc id, page number) -> the page's text


@dataclass(frozen=True)
class QuoteConfig:
    # Measured on cuad-dev questions (tests/bench/answer_bench.py, and 120-question samples
    # drawn with other seeds): CUAD's gold clauses are long, and quotes that cover at least
    # half of one need room: up to 8 quotes of up to 1,500 characters, 4,000 in all (about
    # 3,200 on average, a page). 5 quotes and 3,000 covered 0.66, these 0.74-0.75, while the
    # passages quoted from hold 0.76-0.78 (the ceiling).
    passages: int = 6  # candidate passages, best ranked first
    quotes: int = 8  # at most this many quotes
    max_chars: int = 4000  # all quotes together
    clause_chars: int = 1500  # a sentence is widened to its clause up to this length
    keyword_weight: float = 0.6
    rank_weight: float = 0.08  # a small preference for better-ranked passages
    margin: float = 0.5  # later quotes score within this of the best one
    embed_chars: int = 300  # of a sentence, for its embedding (~70 tokens say what it is about)
    embed_max: int = 16  # sentences embedded, the best by words and rank (embedding is the cost)


@dataclass(frozen=True)
class _Candidate:
    n: int  # citation number of its passage
    rank: int
    passage: Passage
    page: str  # the page's text
    index: int  # position among the page's spans
    start: int
    end: int


@dataclass(frozen=True)
class Relevance:
    """How well the best sentence answers: what the decline gate decides on."""

    similarity: float  # cosine of the best sentence to the question
    coverage: float  # share of the question's word weight the best sentence holds
    score: float


def topic_words(question: str) -> list[str]:
    """The words that say what the question is about, as written (lower case)."""
    return [w for w in dict.fromkeys(keywords(question)) if w not in _ASK and len(w) >= 3]


def question_terms(question: str) -> list[str]:
    """Stemmed words that say what the question is about."""
    return list(dict.fromkeys(stem(w) for w in keywords(question) if w not in _ASK))


class QuotePicker:
    def __init__(self, embedder: Embedder, page_text: PageText, config: QuoteConfig | None = None) -> None:
        self.embedder = embedder
        self.page_text = page_text
        self.config = config or QuoteConfig()
        self._last_blocks: tuple[str | None, list[tuple[int, int]]] = (None, [])

    def pick(self, question: str, passages: Sequence[Passage]) -> tuple[list[Quote], Relevance]:
        """Quotes from ``passages`` (numbered 1.. in this order) that answer ``question``."""
        cfg = self.config
        cands, by_page = self._candidates(passages[: cfg.passages])
        if not cands:
            return [], Relevance(0.0, 0.0, 0.0)
        texts = [c.page[c.start : c.end][: cfg.embed_chars] for c in cands]
        cover = _coverage(question_terms(question), texts)
        prior = [cfg.keyword_weight * cover[i] + cfg.rank_weight / (1 + c.rank) for i, c in enumerate(cands)]
        # Only the likeliest sentences are embedded; the rest keep their word score alone.
        likely = sorted(range(len(cands)), key=lambda i: prior[i], reverse=True)[: cfg.embed_max]
        qvec = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        sims = np.zeros(len(cands), dtype=np.float32)
        sims[likely] = self.embedder.embed([texts[i] for i in likely]) @ qvec
        # A clinical section labelled as asked ("COMPLICATIONS: None.") is the answer.
        sections = section_bonus(question, [(c.passage.heading, c.page[c.start : c.end]) for c in cands])
        scores = [float(sims[i]) + prior[i] + sections[i] for i in range(len(cands))]
        order = sorted(range(len(cands)), key=lambda i: scores[i], reverse=True)
        best = order[0]
        relevance = Relevance(float(sims[best]), cover[best], scores[best])
        chosen: list[Quote] = []
        taken: list[tuple[int, int, int, int]] = []  # (doc, page, start, end) already quoted
        used = 0
        for i in order:
            if len(chosen) >= cfg.quotes or scores[i] < scores[best] - cfg.margin:
                break
            c = cands[i]
            key = (c.passage.doc_id, c.passage.page)
            near = [(a, b) for d, p, a, b in taken if (d, p) == key]
            if any(c.start < b and a < c.end for a, b in near):
                continue  # the sentence is quoted already
            start, end = self._widen(c, by_page[key])
            # Its clause may reach into a quote already chosen (a long numbered clause whose
            # heading was quoted): keep the part around this sentence that is not quoted yet.
            for a, b in near:
                if start < b and a < end:
                    start, end = (max(start, b), end) if b <= c.start else (start, min(end, a))
            while start < end and c.page[start].isspace():
                start += 1
            while end > start and c.page[end - 1].isspace():
                end -= 1
            if chosen and used + (end - start) > cfg.max_chars:
                continue
            taken.append((*key, start, end))
            used += end - start
            chosen.append(Quote(c.n, c.passage, start, end, c.page[start:end], scores[i]))
        return chosen, relevance

    def _candidates(
        self, passages: Sequence[Passage]
    ) -> tuple[list[_Candidate], dict[tuple[int, int], list[tuple[int, int]]]]:
        """Sentences overlapping the passages, each once (for its best-ranked passage)."""
        pages: dict[tuple[int, int], str] = {}
        by_page: dict[tuple[int, int], list[tuple[int, int]]] = {}
        seen: set[tuple[int, int, int]] = set()
        out: list[_Candidate] = []
        for rank, p in enumerate(passages):
            key = (p.doc_id, p.page)
            if key not in pages:
                text = self.page_text(p.doc_id, p.page) if p.doc_id else ""
                if p.text and text[p.start : p.end] != p.text:
                    # No page text (or a different one): the passage stands for its page.
                    text = " " * p.start + p.text
                pages[key] = text
                by_page[key] = spans(text)
            text = pages[key]
            for index, (a, b) in enumerate(by_page[key]):
                if b <= p.start or a >= p.end or (p.doc_id, p.page, a) in seen:
                    continue
                # A sentence mostly outside the passage belongs to its neighbour.
                if min(b, p.end) - max(a, p.start) < 0.5 * min(b - a, p.end - p.start):
                    continue
                seen.add((p.doc_id, p.page, a))
                out.append(_Candidate(rank + 1, rank, p, text, index, a, b))
        return out, by_page

    def _widen(self, c: _Candidate, page_spans: list[tuple[int, int]]) -> tuple[int, int]:
        """The sentence, widened to its clause within ``clause_chars``: its paragraph or
        numbered item when that fits (a heading takes the text under it), else its
        neighbours; a lead-in ending in ":" takes its list items, a list item its lead-in."""
        limit = self.config.clause_chars
        text = c.page
        start, end = c.start, c.end
        i = c.index
        if is_list_item(text[start:end]):
            j = i - 1
            while j >= 0 and is_list_item(text[page_spans[j][0] : page_spans[j][1]]) and i - j <= 3:
                j -= 1
            lead_in = j >= 0 and text[page_spans[j][0] : page_spans[j][1]].rstrip().endswith(":")
            if lead_in and end - page_spans[j][0] <= limit:
                start = page_spans[j][0]
        if text[start:end].rstrip().endswith(":"):
            j = i + 1
            while j < len(page_spans) and is_list_item(text[page_spans[j][0] : page_spans[j][1]]):
                if page_spans[j][1] - start > limit:
                    break
                end = page_spans[j][1]
                j += 1
        # The paragraph or numbered item around it.
        para = [(a, b) for a, b in self._blocks(text) if a <= c.start < b or a < c.end <= b]
        section = section_bounds(c.passage.heading, text, c.start) if is_labelled_answer(text[start:end]) else None
        if section and para and para[-1][1] - para[0][0] > section[1] - section[0]:
            para = [section]  # one section of a note typed a line each, not the whole note
        if para:
            a, b = para[0][0], para[-1][1]
            if b - a <= limit:
                start, end = min(start, a), max(end, b)
            else:
                start, end = self._grow(page_spans, i, start, end, a, b, limit)
        # A heading alone says nothing: take the sentence under it.
        nxt = next((k for k, (a, _b) in enumerate(page_spans) if a >= end), None)
        if (end - start < MIN_QUOTE and nxt is not None and page_spans[nxt][1] - start <= limit
                and not is_labelled_answer(text[start:end])):
            end = page_spans[nxt][1]
        return start, end

    def _blocks(self, text: str) -> list[tuple[int, int]]:
        if self._last_blocks[0] is not text:
            self._last_blocks = (text, blocks(text))
        return self._last_blocks[1]

    @staticmethod
    def _grow(page_spans: list[tuple[int, int]], i: int, start: int, end: int,
              lo: int, hi: int, limit: int) -> tuple[int, int]:
        """Add the following, then the preceding sentences of the paragraph ``lo:hi``."""
        after, before = i + 1, i - 1
        while True:
            grew = False
            if after < len(page_spans) and page_spans[after][1] <= hi and page_spans[after][1] - start <= limit:
                end = page_spans[after][1]
                after += 1
                grew = True
            if before >= 0 and page_spans[before][0] >= lo and end - page_spans[before][0] <= limit:
                start = page_spans[before][0]
                before -= 1
                grew = True
            if not grew:
                return start, end


def _coverage(terms: list[str], texts: list[str]) -> list[float]:
    """Share of the question's word weight each text holds; rarer words weigh more."""
    if not terms:
        return [0.0] * len(texts)
    bags = [{stem(w) for w in keywords(t)} for t in texts]
    n = len(bags)
    weight = {w: math.log(1 + n / (1 + sum(1 for b in bags if w in b))) for w in terms}
    total = sum(weight.values()) or 1.0
    return [sum(wt for w, wt in weight.items() if w in b) / total for b in bags]
