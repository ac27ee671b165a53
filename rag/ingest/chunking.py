"""Structure-aware chunking with exact page offsets.

Chunks never cross a page (so a citation is always one page and one highlight), cover
every character of the page (consecutive chunks touch or overlap: no text is lost), and
prefer to end where a clause, paragraph or sentence ends. Numbered sections and clause
headings ("12.3 Termination for Convenience", "ARTICLE IV", "GOVERNING LAW") are tracked
across pages; each chunk carries the heading path in force where it starts, which both
keyword and vector search index alongside the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.locations import locate
from rag.ingest.sections import find_sections, is_clinical, report_kind, with_sections
from rag.types import Chunk, ParsedDocument

# PDF text often spaces with U+00A0 rather than " ": a "horizontal space" is any space but a newline.
_NUMBERED = re.compile(
    r"^[^\S\n]*(?:(?i:section|article|clause)[^\S\n]+)?(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\)?"
    r"(?P<gap>[^\S\n]*)(?P<title>[A-Z][^\n]{0,200})"
)
_ARTICLE = re.compile(
    r"^[^\S\n]*(?:ARTICLE|Article|SECTION|Section)[^\S\n]+(?P<num>[IVXLC]+|\d{1,2})\b\.?[^\S\n]*"
    r"(?P<title>[^\n]{0,200})"
)
_CAPS = re.compile(r"^[^\S\n]*(?P<title>[A-Z][A-Z0-9 \xa0,;:&'()/-]{3,80})[^\S\n]*$")
_LETTERED = re.compile(r"^[^\S\n]*\(?(?:[a-z]|[ivx]{1,4})\)[^\S\n]+\S")
_SENTENCE_END = re.compile(r"[.;:!?][\"')\]]?\s")
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")
_HSPACE = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


def _short_title(title: str) -> str:
    title = _HSPACE.sub(" ", title).strip()
    cut = re.search(r"[.:;](\s|$)", title)
    if cut and cut.start() <= 80:
        title = title[: cut.start()]
    elif len(title) > 60:
        # A numbered paragraph with no title of its own: keep its opening words only.
        title = " ".join(title.split()[:6]) + "…"
    return title.strip(" .-")


def detect_heading(line: str) -> Heading | None:
    """Return the heading a line opens, or None. Conservative: a false heading costs recall."""
    if len(line.strip()) < 3:
        return None
    m = _ARTICLE.match(line)
    if m:
        raw = m.group("title").strip()
        if raw and not (raw[0].isupper() or raw[0] in "-–—:."):
            return None  # "Section 2 of this Agreement ...": a reference wrapped onto a new line
        title = _short_title(raw)
        label = line.strip().split()[0].title() + " " + m.group("num")
        return Heading(1, f"{label} {title}".strip())
    m = _NUMBERED.match(line)
    if m:
        num = m.group("num")
        if "." not in num and int(num) > 60:  # "2019 Revenue", "100 Shares": not sections
            return None
        if not m.group("gap") and ("." not in num.rstrip(".") or not m.group("title")[1:2].islower()):
            return None  # "2.8Debarment" is a heading glued to its number; "3M" is not
        title = _short_title(m.group("title"))
        if not title or sum(c.isalpha() for c in title) < 3:
            return None
        return Heading(num.count(".") + 1, f"{num} {title}")
    m = _CAPS.match(line)
    if m:
        title = _HSPACE.sub(" ", m.group("title")).strip()
        letters = sum(c.isalpha() for c in title)
        if letters >= 4 and " " in title or letters >= 8:
            return Heading(1, title.title() if len(title) > 3 else title)
    return None


def running_lines(pages: list[str]) -> set[str]:
    """Lines repeated on many pages (running headers and footers): never headings."""
    if len(pages) < 3:
        return set()
    seen: dict[str, int] = {}
    for text in pages:
        for line in {_HSPACE.sub(" ", x).strip() for x in text.split("\n")}:
            if line:
                seen[line] = seen.get(line, 0) + 1
    floor = max(3, len(pages) // 4)
    return {line for line, n in seen.items() if n >= floor}


@dataclass(frozen=True)
class ChunkerConfig:
    size: int = 800  # target characters per chunk
    overlap: int = 100  # characters repeated from the previous chunk when a cut is mid-clause
    min_size: int = 200  # do not end a chunk before this many characters


class StructuredChunker:
    def __init__(self, config: ChunkerConfig | None = None) -> None:
        self.config = config or ChunkerConfig()

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        if is_clinical(doc):
            return self._sectioned(doc)
        chunks: list[Chunk] = []
        carried: list[Heading] = []  # heading path in force at the top of the page
        running = running_lines([p.text for p in doc.pages])
        for page in doc.pages:
            text = page.text
            if not text.strip():
                continue
            lines = _line_starts(text)
            heads: dict[int, Heading] = {}
            for pos in lines:
                end = text.find("\n", pos)
                line = text[pos : end if end != -1 else len(text)]
                h = detect_heading(line)
                if h is not None and _HSPACE.sub(" ", line).strip() not in running:
                    heads[pos] = h
            _merge_split_titles(text, heads)
            ordered = sorted(heads.items())
            for start, end in self._spans(text, lines, heads):
                path = [h.text for h in _apply(carried, [h for p, h in ordered if p <= start])]
                inner = [h.text for p, h in ordered if start < p < end]
                if inner:
                    path.append(inner[0])
                chunks.append(
                    Chunk(
                        page=page.number,
                        start=start,
                        end=end,
                        text=text[start:end],
                        heading=" > ".join(path[-3:]),
                        ordinal=len(chunks),
                        location=locate(doc, page, start, end),
                    )
                )
            carried = _apply(carried, [h for _, h in ordered])
        return chunks

    def _sectioned(self, doc: ParsedDocument) -> list[Chunk]:
        """A clinical note (:mod:`rag.ingest.sections`): every section starts a passage, so a
        short one ("COMPLICATIONS: None.") is never buried in its neighbours; a long one is
        cut as any text. The lines above the first section (the report's title) join it."""
        first = doc.pages[0].text
        kind = report_kind(f"{doc.title} {first[:200].partition(chr(10))[0]}", first)
        doc = with_sections(doc, kind)
        head = kind[:1].upper() + kind[1:]
        chunks: list[Chunk] = []
        carried = ""  # the section a page begins in, from the page before
        for page in doc.pages:
            text = page.text
            secs = find_sections(text)
            starts = [s.start for s in secs]
            bounds = [0, *starts[1:]] if starts and starts[0] < self.config.min_size else [0, *starts]
            bounds.append(len(text))
            for a, b in zip(bounds, bounds[1:]):
                seg = text[a:b]
                inside = [s.label for s in secs if a <= s.start < b] or [carried]
                path = [head, inside[0]] if inside[0] else [head]
                carried = inside[0]
                for s, e in self._spans(seg, _line_starts(seg), {}):
                    chunks.append(Chunk(page=page.number, start=a + s, end=a + e, text=text[a + s : a + e],
                                        heading=" > ".join(path), ordinal=len(chunks),
                                        location=locate(doc, page, a + s, a + e)))
        return chunks

    def _spans(self, text: str, lines: list[int], heads: dict[int, Heading]) -> list[tuple[int, int]]:
        cfg = self.config
        n = len(text)
        spans: list[tuple[int, int]] = []
        start = _skip_ws(text, 0)
        while start < n:
            if n - start <= cfg.size + cfg.min_size // 2:
                spans.append((start, n))
                break
            lo, hi = start + cfg.min_size, min(n, start + cfg.size)
            end, clean = _best_cut(text, lo, hi, heads, lines)
            spans.append((start, end))
            if clean or cfg.overlap <= 0:
                nxt = end
            else:
                nxt = max(start + 1, end - cfg.overlap)
                sp = _rfind_space(text, start + 1, nxt)
                nxt = sp + 1 if sp > start else nxt
            start = _skip_ws(text, nxt)
        return [(s, _trim_end(text, s, e)) for s, e in spans]


def _merge_split_titles(text: str, heads: dict[int, Heading]) -> None:
    """"ARTICLE 2" on one line and "SUPPLY" on the next are one heading: "Article 2 Supply"."""
    for pos in sorted(heads):
        h = heads.get(pos)
        if h is None or not re.fullmatch(r"(?:Article|Section) \S+", h.text):
            continue
        nxt = text.find("\n", pos) + 1
        following = heads.get(nxt) if nxt > 0 else None
        if following is not None and following.level == 1:
            heads[pos] = Heading(1, f"{h.text} {following.text}")
            del heads[nxt]


def _line_starts(text: str) -> list[int]:
    starts = [0]
    i = text.find("\n")
    while i != -1:
        starts.append(i + 1)
        i = text.find("\n", i + 1)
    return [s for s in starts if s < len(text)]


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    return i


def _rfind_space(text: str, lo: int, hi: int) -> int:
    """Index of the last whitespace character in text[lo:hi], or -1."""
    for i in range(hi - 1, lo - 1, -1):
        if text[i].isspace():
            return i
    return -1


def _trim_end(text: str, s: int, e: int) -> int:
    while e > s and text[e - 1].isspace():
        e -= 1
    return e


def _best_cut(
    text: str, lo: int, hi: int, heads: dict[int, Heading], lines: list[int]
) -> tuple[int, bool]:
    """Where to end a chunk within [lo, hi]; True if the cut is clean (needs no overlap)."""
    # 1. Just before a heading: a new clause starts here.
    best = [p for p in heads if lo <= p <= hi]
    if best:
        return max(best), True
    # 2. A paragraph break, then a lettered sub-clause "(a)".
    paras = [m.start() for m in _PARAGRAPH.finditer(text, lo, hi)]
    if paras:
        return paras[-1] + 1, True
    sub = [p for p in lines if lo <= p <= hi and _LETTERED.match(text, p)]
    if sub:
        return max(sub), True
    # 3. A sentence end.
    last = None
    for m in _SENTENCE_END.finditer(text, lo, hi + 1):
        last = m.end()
    if last is not None:
        return last, False
    # 4. A line break or a space; else a hard cut.
    nl = text.rfind("\n", lo, hi)
    if nl != -1:
        return nl + 1, False
    sp = _rfind_space(text, lo, hi)
    return (sp + 1 if sp != -1 else hi), False


def _apply(stack: list[Heading], heads: list[Heading]) -> list[Heading]:
    out = list(stack)
    for h in heads:
        while out and out[-1].level >= h.level:
            out.pop()
        out.append(h)
    return out
