"""Word, PowerPoint and HTML through ``unstructured``; Markdown and plain text directly.

Two offline traps are closed here rather than hoped away:

* ``import unstructured`` pings an analytics URL unless DO_NOT_TRACK / SCARF_NO_ANALYTICS
  are set; :mod:`rag.privacy.offline` sets them before this module can be imported.
* unstructured >= 0.21 downloads spaCy's ``en_core_web_sm`` the first time it classifies
  text (DOCX, HTML, EML). We need its text, not its part-of-speech tags, so we give it a
  blank English pipeline with a rule-based sentencizer (shipped inside spaCy itself) and
  make the installer raise instead of fetching anything.
"""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rag.ingest.chunking import detect_heading
from rag.ingest.locations import line_anchors
from rag.ingest.parsing.zipguard import check_zip
from rag.protocols import ParseError
from rag.types import Anchor, Page, ParsedDocument

_patch_lock = threading.Lock()
_patched = False


def _offline_nlp() -> Any:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _refuse_download() -> None:
    raise RuntimeError("docqa never downloads models; spaCy model install blocked")


def patch_unstructured_nlp() -> None:
    """Point unstructured's tokenizer at a local blank spaCy pipeline (idempotent)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        from unstructured.nlp import tokenize

        nlp = _offline_nlp()
        mod: Any = tokenize  # patched on purpose: see the module docstring
        mod._get_nlp = lambda: nlp
        mod._install_spacy_model = _refuse_download
        mod._download_with_timeout = lambda *a, **k: _refuse_download()
        _patched = True


_KINDS: tuple[str, ...] = ("docx", "pptx", "html", "htm", "md", "txt", "text", "xml")


class OfficeParser:
    """Word, PowerPoint and HTML through unstructured; Markdown and text read directly.
    Each paragraph is anchored by its heading path ("12 Termination › ¶ 9"), each table
    row keeps its header, and text is located by heading and line (:mod:`rag.ingest.locations`)."""

    kinds: tuple[str, ...] = _KINDS

    def parse(self, path: Path) -> ParsedDocument:
        kind = path.suffix.lower().lstrip(".")
        if kind in ("txt", "text", "md"):
            return self._plain(path, kind)
        if kind in ("docx", "pptx"):
            check_zip(path, kind)
        patch_unstructured_nlp()
        try:
            from unstructured.partition.auto import partition

            elements = partition(filename=str(path))
        except ParseError:
            raise
        except Exception as err:  # noqa: BLE001 (unstructured raises many types)
            raise ParseError(f"could not read this {kind.upper()} file: {_short(err)}") from err
        pages = _Pages(slides=kind == "pptx")
        title = ""
        for el in elements:
            text = str(el).strip()
            if not text:
                continue
            meta = getattr(el, "metadata", None)
            number = int(getattr(meta, "page_number", None) or 1)
            category = type(el).__name__
            if not title and category == "Title":
                title = text
            if category == "Title":
                pages.heading(number, text, int(getattr(meta, "category_depth", None) or 0))
            elif category == "Table" and getattr(meta, "text_as_html", None):
                pages.table(number, str(meta.text_as_html))  # type: ignore[union-attr]
            else:
                pages.paragraph(number, text)
        out = pages.build()
        if not out:
            raise ParseError("the file contains no text")
        return ParsedDocument(pages=out, kind=kind, title=title)

    def _plain(self, path: Path, kind: str) -> ParsedDocument:
        raw = path.read_bytes()
        if b"\x00" in raw[:4096]:
            raise ParseError("this looks like a binary file, not text")
        full = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
        text = full.strip()
        if not text:
            raise ParseError("the file contains no text")
        first_line = 1 + full.count("\n", 0, len(full) - len(full.lstrip()))
        heads = []
        pos = 0
        for line in text.split("\n"):
            if kind == "md":
                m = _MD_HEADING.match(line)
                if m:
                    heads.append((pos, m.group(1).strip()))
            else:
                h = detect_heading(line)
                if h is not None:
                    heads.append((pos, h.text))
            pos += len(line) + 1
        anchors = line_anchors(text, heads, first_line)
        return ParsedDocument(pages=[Page(1, text, anchors)], kind=kind, title=path.stem)


_MD_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


class _Pages:
    """Page text built paragraph by paragraph, each anchored by the heading path above it."""

    def __init__(self, slides: bool = False) -> None:
        self.slides = slides
        self.parts: dict[int, list[str]] = {}
        self.anchors: dict[int, list[Anchor]] = {}
        self.size: dict[int, int] = {}
        self.path: list[str] = []
        self.para = 0
        self.tables = 0

    def _context(self, number: int) -> str:
        where = " › ".join(self.path[-2:])
        if self.slides:
            return f"slide {number} › {where}" if where else f"slide {number}"
        return where

    def _add(self, number: int, text: str, anchor: Anchor) -> None:
        at = self.size.get(number, 0)
        self.parts.setdefault(number, []).append(text)
        self.anchors.setdefault(number, []).append(Anchor(at, anchor.context, anchor.unit, anchor.n))
        self.size[number] = at + len(text) + 2

    def heading(self, number: int, text: str, depth: int) -> None:
        self.path = [*self.path[:depth], " ".join(text.split())[:80]]
        self.para = 0
        self._add(number, text, Anchor(0, self._context(number)))

    def paragraph(self, number: int, text: str) -> None:
        self.para += 1
        self._add(number, text, Anchor(0, self._context(number), "¶", self.para))

    def table(self, number: int, html: str) -> None:
        rows = table_rows(html)
        if not rows:
            return
        self.tables += 1
        context = f"{self._context(number)} › table {self.tables}".lstrip(" ›")
        header, body = (rows[0], rows[1:]) if len(rows) > 1 else ([], rows)
        for i, row in enumerate(body, start=2 if header else 1):
            pairs = [f"{header[j]}: {v}" if j < len(header) and header[j] else v for j, v in enumerate(row) if v]
            if pairs:
                self._add(number, " · ".join(pairs), Anchor(0, context, "row", i))

    def build(self) -> list[Page]:
        return [Page(n, "\n\n".join(parts), tuple(self.anchors[n])) for n, parts in sorted(self.parts.items())]


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            if not self.rows:
                self.rows.append([])
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    """The cells of an HTML table, row by row (unstructured gives tables as HTML)."""
    p = _Cells()
    p.feed(html)
    return [r for r in p.rows if any(r)]


def _short(err: Exception) -> str:
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return msg[:160]
