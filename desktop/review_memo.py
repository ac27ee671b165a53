"""A review grid as a Word memo: a table of short answers, each answer's quote and
location a real footnote (:mod:`desktop.docx_footnotes`, as the chat's export), the
reviewer's marks and notes beside the answer.

A grid of many columns does not fit one page's width: the table is split into tables of
at most ``PER_TABLE`` columns, each repeating the document's name, on landscape pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rag.ask.review.cells import FOUND
from rag.ask.review.engine import ReviewResult
from rag.ask.review.export import shown_answer
from rag.ingest.locations import cite
from rag.store.grids import Mark

PER_TABLE = 5
_MARK_WORDS = {"verified": "✓ verified", "flagged": "⚑ flagged", "overwritten": "reviewer's answer"}


def footnote_text(file: str, location: str, quote: str) -> str:
    file, location = cite(file, location)
    text = " ".join(quote.split())
    if len(text) > 500:
        text = text[:500].rsplit(" ", 1)[0] + " …"
    return f"{file}, {location}: “{text}”"


def write_memo(path: Path, result: ReviewResult, marks: Mapping[tuple[int, str], Mark] | None = None,
               title: str = "Review") -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt, RGBColor

    from desktop.docx_footnotes import Footnotes

    marks = marks or {}
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    doc.add_heading(title, level=1)
    found = sum(1 for c in result.cells.values() if c.status == FOUND)
    doc.add_paragraph(
        f"{len(result.documents)} documents × {len(result.columns)} questions; {found} of "
        f"{len(result.cells)} answers found in the documents, each with its quote in a footnote. "
        "“Not stated”: the document does not say it. Marks are the reviewer's.")
    questions = doc.add_paragraph()
    for col in result.columns:
        questions.add_run(f"{col.name}: ").bold = True
        questions.add_run(f"{col.question}\n")
    footnotes = Footnotes()
    grey = RGBColor(0x6F, 0x74, 0x7C)
    for start in range(0, len(result.columns), PER_TABLE):
        columns = result.columns[start:start + PER_TABLE]
        table = doc.add_table(rows=1, cols=len(columns) + 1)
        table.style = "Table Grid"
        head = table.rows[0].cells
        head[0].paragraphs[0].add_run("Document").bold = True
        for i, col in enumerate(columns, start=1):
            head[i].paragraphs[0].add_run(col.name).bold = True
        for d in result.documents:
            row = table.add_row().cells
            row[0].paragraphs[0].add_run(d.name)
            for i, col in enumerate(columns, start=1):
                cell = result.cell(d.id, col.name)
                mark = marks.get((d.id, col.name))
                para = row[i].paragraphs[0]
                run = para.add_run(shown_answer(cell, mark) or "—")
                if cell is not None and cell.status != FOUND and mark is None:
                    run.italic, run.font.color.rgb = True, grey
                if cell is not None and cell.quotes:
                    q = cell.quotes[0]
                    note = footnote_text(q.passage.file, q.location, q.text)
                    if mark is not None and mark.mark == "overwritten":
                        # The reviewer's words stand on their own: the quote is what was replaced.
                        note = f"The reviewer's answer replaces “{shown_answer(cell, None)}”, from {note}"
                    footnotes.add_reference(para, note)
                if mark is not None:
                    said = _MARK_WORDS.get(mark.mark, mark.mark) + (f": {mark.note}" if mark.note else "")
                    note = row[i].add_paragraph().add_run(said)
                    note.font.size, note.font.color.rgb = Pt(8), grey
        doc.add_paragraph()
    footnotes.attach(doc)
    doc.save(str(path))
