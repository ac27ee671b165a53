"""Export a chat (or one answer) to Markdown, DOCX or PDF, citations as footnotes.

Inline markers ``[n]`` of each answer become footnote references numbered across the
whole export, and each footnote names the file, page and quoted passage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.chat_store import Exchange, SourceRef

_CITE = re.compile(r"\[(\d{1,2})\]")
FORMATS = {"md": "Markdown (*.md)", "docx": "Word document (*.docx)", "pdf": "PDF (*.pdf)"}


@dataclass(frozen=True)
class Footnote:
    number: int
    source: SourceRef

    def text(self) -> str:
        s = self.source
        quote = " ".join(s.text.split())
        if len(quote) > 400:
            quote = quote[:400].rsplit(" ", 1)[0] + " …"
        return f"{s.file}, page {s.page}: “{quote}”"


@dataclass(frozen=True)
class Part:
    """A piece of answer text, and the footnote it points to (0 for plain text)."""

    text: str
    note: int = 0


def _numbered(exchanges: Sequence[Exchange]) -> tuple[list[list[Part]], list[Footnote]]:
    """Split each answer into text and footnote references; sources never cited in the
    text are still listed, attached at the end of their answer."""
    notes: list[Footnote] = []
    bodies: list[list[Part]] = []
    for ex in exchanges:
        by_n = {s.n: s for s in ex.sources}
        local: dict[int, int] = {}

        def ref(n: int, local: dict[int, int] = local, by_n: dict[int, SourceRef] = by_n) -> int:
            if n not in local:
                notes.append(Footnote(len(notes) + 1, by_n[n]))
                local[n] = len(notes)
            return local[n]

        parts: list[Part] = []
        pos = 0
        for m in _CITE.finditer(ex.answer):
            n = int(m.group(1))
            if n not in by_n:
                continue
            parts.append(Part(ex.answer[pos:m.start()]))
            parts.append(Part("", ref(n)))
            pos = m.end()
        parts.append(Part(ex.answer[pos:]))
        for s in ex.sources:
            if s.n not in local:
                parts.append(Part("", ref(s.n)))
        bodies.append(parts)
    return bodies, notes


def to_markdown(exchanges: Sequence[Exchange], title: str = "docqa chat") -> str:
    bodies, notes = _numbered(exchanges)
    out = [f"# {title}", ""]
    for ex, parts in zip(exchanges, bodies):
        out += [f"## {ex.question.strip()}", ""]
        out.append("".join(p.text if not p.note else f"[^{p.note}]" for p in parts).strip())
        out.append("")
    for fn in notes:
        out.append(f"[^{fn.number}]: {fn.text()}")
    return "\n".join(out).rstrip() + "\n"


def to_html(exchanges: Sequence[Exchange], title: str = "docqa chat") -> str:
    bodies, notes = _numbered(exchanges)
    out = [f"<h1>{html.escape(title)}</h1>"]
    for ex, parts in zip(exchanges, bodies):
        out.append(f"<h2>{html.escape(ex.question.strip())}</h2><p>")
        for p in parts:
            out.append(f"<sup>{p.note}</sup>" if p.note else html.escape(p.text).replace("\n", "<br>"))
        out.append("</p>")
    if notes:
        out.append("<hr><h3>Sources</h3>")
        for fn in notes:
            out.append(f"<p><sup>{fn.number}</sup> {html.escape(fn.text())}</p>")
    return "\n".join(out)


def to_docx(exchanges: Sequence[Exchange], path: Path, title: str = "docqa chat") -> None:
    """Word document with real footnotes (see :mod:`desktop.docx_footnotes`)."""
    from docx import Document

    from desktop.docx_footnotes import Footnotes

    bodies, notes = _numbered(exchanges)
    text_of = {fn.number: fn.text() for fn in notes}
    doc = Document()
    footnotes = Footnotes()
    doc.add_heading(title, level=1)
    for ex, parts in zip(exchanges, bodies):
        doc.add_heading(ex.question.strip(), level=2)
        para = doc.add_paragraph()
        for p in parts:
            if p.note:
                footnotes.add_reference(para, text_of[p.note])
            else:
                para.add_run(p.text)
    footnotes.attach(doc)
    doc.save(str(path))


def to_pdf(exchanges: Sequence[Exchange], path: Path, title: str = "docqa chat") -> None:
    from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setTitle(title)
    writer.setCreator("docqa")
    doc = QTextDocument()
    doc.setHtml(to_html(exchanges, title))
    doc.print_(writer)


def export(exchanges: Sequence[Exchange], path: Path, title: str = "docqa chat") -> None:
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "md":
        path.write_text(to_markdown(exchanges, title), encoding="utf-8")
    elif suffix == "docx":
        to_docx(exchanges, path, title)
    elif suffix == "pdf":
        to_pdf(exchanges, path, title)
    else:
        raise ValueError(f"cannot export to .{suffix}: choose .md, .docx or .pdf")
