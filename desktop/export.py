"""Export a chat (or one answer) to Markdown, DOCX or PDF, citations as footnotes.

Inline markers ``[n]`` of each answer become footnote references numbered across the
whole export, and each footnote names the file, page and quoted passage. An answer's
verbatim quotes come first, each with the footnote of its source; sentences the checker
did not find in the sources are marked (greyed, or struck through when contradicted),
with the note a reader sees in the app.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.chat_store import CheckRef, Exchange, SourceRef

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


QUOTES_TITLE = "From the documents"
CLOSEST_TITLE = "Closest passages found (they may not answer the question)"
UNSUPPORTED, CONTRADICTED = "unsupported", "contradicted"
REMARK, WARNING = "remark", "warning"  # the note after a sentence not found / contradicted


@dataclass(frozen=True)
class Part:
    """A piece of answer text, and the footnote it points to (0 for plain text);
    ``style`` marks a doubtful sentence (UNSUPPORTED, CONTRADICTED) or the note that
    explains it (REMARK, WARNING)."""

    text: str
    note: int = 0
    style: str = ""


@dataclass(frozen=True)
class QuotePart:
    text: str
    where: str  # "nda.pdf, page 2 › 12.3 Termination"
    note: int  # its source's footnote (0 when the source is not among the footnotes)


@dataclass(frozen=True)
class Body:
    """One exchange, ready to write: its quotes, then its answer's parts."""

    quotes_title: str
    quotes: list[QuotePart]
    parts: list[Part]


def _without_cites(text: str, known: set[int]) -> str:
    return re.sub(r"\s*\[(\d{1,2})\]", lambda m: "" if int(m.group(1)) in known else m.group(0), text)


def _style(check: CheckRef | None) -> str:
    if check is None or check.supported:
        return ""
    return CONTRADICTED if check.contradicted else UNSUPPORTED


def _numbered(exchanges: Sequence[Exchange]) -> tuple[list[Body], list[Footnote]]:
    """Split each answer into text and footnote references; sources never cited in the
    text are still listed, attached at the end of their answer."""
    notes: list[Footnote] = []
    bodies: list[Body] = []
    for ex in exchanges:
        by_n = {s.n: s for s in ex.sources}
        local: dict[int, int] = {}

        def ref(n: int, local: dict[int, int] = local, by_n: dict[int, SourceRef] = by_n) -> int:
            if n not in by_n:
                return 0
            if n not in local:
                notes.append(Footnote(len(notes) + 1, by_n[n]))
                local[n] = len(notes)
            return local[n]

        quotes = [QuotePart(" ".join(q.text.split()), f"{q.file}, {q.location}", ref(q.n)) for q in ex.quotes]
        parts: list[Part] = []
        for seg in ex.segments():
            style = _style(seg.check)
            if style:  # a marked sentence stays whole; its citations follow it
                cited = [int(m.group(1)) for m in _CITE.finditer(seg.text) if int(m.group(1)) in by_n]
                bare = _without_cites(seg.text, set(by_n))
                parts.append(Part(bare, style=style))
                parts += [Part("", ref(n)) for n in dict.fromkeys(cited)]
                warn = style == CONTRADICTED
                parts.append(Part(f" [{'⚠ ' if warn else ''}{seg.check.note()}]" if seg.check else "",
                                  style=WARNING if warn else REMARK))
                continue
            pos = 0
            for m in _CITE.finditer(seg.text):
                n = int(m.group(1))
                if n not in by_n:
                    continue
                parts.append(Part(seg.text[pos:m.start()], style=style))
                parts.append(Part("", ref(n)))
                pos = m.end()
            parts.append(Part(seg.text[pos:], style=style))
        if ex.stopped and not ex.checks and ex.quotes:
            parts.append(Part(" [stopped; not checked against the sources]", style=REMARK))
        for s in ex.sources:
            if s.n not in local:
                parts.append(Part("", ref(s.n)))
        bodies.append(Body(QUOTES_TITLE if ex.grounded else CLOSEST_TITLE, quotes, parts))
    return bodies, notes


def _md(p: Part) -> str:
    if p.note:
        return f"[^{p.note}]"
    core = p.text.strip()
    if not p.style or not core:
        return p.text
    lead, trail = p.text[:len(p.text) - len(p.text.lstrip())], p.text[len(p.text.rstrip()):]
    mark = {UNSUPPORTED: "*", CONTRADICTED: "~~", REMARK: "**", WARNING: "**"}[p.style]
    return f"{lead}{mark}{core}{mark}{trail}"


def to_markdown(exchanges: Sequence[Exchange], title: str = "docqa chat") -> str:
    bodies, notes = _numbered(exchanges)
    out = [f"# {title}", ""]
    for ex, body in zip(exchanges, bodies):
        out += [f"## {ex.question.strip()}", ""]
        if body.quotes:
            out += [f"**{body.quotes_title}**", ""]
            for q in body.quotes:
                out += [f"> “{q.text}”", f"> — {q.where}" + (f"[^{q.note}]" if q.note else ""), ""]
        out.append("".join(_md(p) for p in body.parts).strip())
        out.append("")
    for fn in notes:
        out.append(f"[^{fn.number}]: {fn.text()}")
    return "\n".join(out).rstrip() + "\n"


_HTML_STYLE = {UNSUPPORTED: "color:#6f747c; font-style:italic", CONTRADICTED: "color:#c0392b; text-decoration:line-through",
               REMARK: "color:#6f747c; font-size:small", WARNING: "color:#c0392b; font-size:small"}


def to_html(exchanges: Sequence[Exchange], title: str = "docqa chat") -> str:
    bodies, notes = _numbered(exchanges)
    out = [f"<h1>{html.escape(title)}</h1>"]
    for ex, body in zip(exchanges, bodies):
        out.append(f"<h2>{html.escape(ex.question.strip())}</h2>")
        if body.quotes:
            out.append(f"<p><b>{html.escape(body.quotes_title)}</b></p>")
            for q in body.quotes:
                note = f"<sup>{q.note}</sup>" if q.note else ""
                out.append(f"<blockquote>“{html.escape(q.text)}”<br><small>— {html.escape(q.where)}</small>{note}</blockquote>")
        out.append("<p>")
        for p in body.parts:
            text = f"<sup>{p.note}</sup>" if p.note else html.escape(p.text).replace("\n", "<br>")
            out.append(f'<span style="{_HTML_STYLE[p.style]}">{text}</span>' if p.style and not p.note else text)
        out.append("</p>")
    if notes:
        out.append("<hr><h3>Sources</h3>")
        for fn in notes:
            out.append(f"<p><sup>{fn.number}</sup> {html.escape(fn.text())}</p>")
    return "\n".join(out)


def to_docx(exchanges: Sequence[Exchange], path: Path, title: str = "docqa chat") -> None:
    """Word document with real footnotes (see :mod:`rag.docx_footnotes`)."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    from rag.docx_footnotes import Footnotes

    bodies, notes = _numbered(exchanges)
    text_of = {fn.number: fn.text() for fn in notes}
    doc = Document()
    footnotes = Footnotes()
    doc.add_heading(title, level=1)
    grey, red = RGBColor(0x6F, 0x74, 0x7C), RGBColor(0xC0, 0x39, 0x2B)
    for ex, body in zip(exchanges, bodies):
        doc.add_heading(ex.question.strip(), level=2)
        if body.quotes:
            doc.add_paragraph().add_run(body.quotes_title).bold = True
            for q in body.quotes:
                quote = doc.add_paragraph(style="Quote")
                quote.add_run(f"“{q.text}”")
                quote.add_run(f"\n— {q.where}").font.size = Pt(9)
                if q.note:
                    footnotes.add_reference(quote, text_of[q.note])
        para = doc.add_paragraph()
        for p in body.parts:
            if p.note:
                footnotes.add_reference(para, text_of[p.note])
                continue
            run = para.add_run(p.text)
            if p.style == UNSUPPORTED:
                run.font.color.rgb, run.italic = grey, True
            elif p.style == CONTRADICTED:
                run.font.color.rgb, run.font.strike = red, True
            elif p.style in (REMARK, WARNING):
                run.font.color.rgb, run.font.size = (red if p.style == WARNING else grey), Pt(9)
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
