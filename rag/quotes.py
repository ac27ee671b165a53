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

from rag.protocols import Embedder
from rag.sentences import is_list_item, spans
from rag.text import keywords, stem
from rag.types import Passage, Quote

# Words a question uses to ask, not to say what it is about.
_ASK = frozenset(
    """what which who whom whose how why when where does do did is are was were there any
    contract agreement document documents clause clauses provision provisions provide provides
    state states say says mention mentions specify specifies term terms this that our
    please tell me give list show find describe explain""".split()
)

PageText = Callable[[int, int], str]  # (doc id, page number) -> the page's text


@dataclass(frozen=True)
class QuoteConfig:
    passages: int = 6  # candidate passages, best ranked first
    quotes: int = 3  # at most this many quotes
    max_chars: int = 1600  # all quotes together
    clause_chars: int = 900  # a lead-in with its items is widened up to this length
    keyword_weight: float = 0.6
    rank_weight: float = 0.08  # a small preference for better-ranked passages
    margin: float = 0.25  # later quotes score within this of the best one
    embed_chars: int = 600  # of a sentence, for its embedding (the model reads ~256 tokens)


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


def question_terms(question: str) -> list[str]:
    """Stemmed words that say what the question is about."""
    return list(dict.fromkeys(stem(w) for w in keywords(question) if w not in _ASK))


class QuotePicker:
    def __init__(self, embedder: Embedder, page_text: PageText, config: QuoteConfig | None = None) -> None:
        self.embedder = embedder
        self.page_text = page_text
        self.config = config or QuoteConfig()

    def pick(self, question: str, passages: Sequence[Passage]) -> tuple[list[Quote], Relevance]:
        """Quotes from ``passages`` (numbered 1.. in this order) that answer ``question``."""
        cfg = self.config
        cands, by_page = self._candidates(passages[: cfg.passages])
        if not cands:
            return [], Relevance(0.0, 0.0, 0.0)
        texts = [c.page[c.start : c.end][: cfg.embed_chars] for c in cands]
        qvec = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        sims = self.embedder.embed(texts) @ qvec
        cover = _coverage(question_terms(question), texts)
        scores = [
            float(sims[i]) + cfg.keyword_weight * cover[i] + cfg.rank_weight / (1 + c.rank)
            for i, c in enumerate(cands)
        ]
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
            start, end = self._widen(c, by_page[(c.passage.doc_id, c.passage.page)])
            key = (c.passage.doc_id, c.passage.page)
            if any(k[:2] == key and start < k[3] and k[2] < end for k in taken):
                continue  # overlaps a quote already chosen
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
        """The sentence, widened to its clause: a lead-in ending in ":" takes its list items,
        a list item takes its lead-in, within ``clause_chars``."""
        limit = self.config.clause_chars
        start, end = c.start, c.end
        i = c.index
        text = c.page
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
