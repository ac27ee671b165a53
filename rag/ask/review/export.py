"""A review grid on paper: XLSX (openpyxl, MIT), CSV and a DOCX memo (python-docx, MIT).

The XLSX's first sheet is the grid a reviewer reads: one row per document, each column's
short answer with its first quote and location in the column beside it (and in the
answer cell's comment), verified cells green, flagged ones orange, overwritten ones
showing the reviewer's text with the engine's answer kept in the comment. The Sources
sheet lists every quote of every cell with its page, location and offsets, and the marks
and notes, so that each answer can be traced to the exact words it stands on.

The memo is what goes to a client or a partner: a title, a table of documents × columns
with the short answers, each backed by footnotes quoting its sources word for word with
file, page and location, and the reviewer's marks shown in the cell.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from rag.ask.review.cells import FAILED, FOUND, Cell
from rag.ask.review.engine import ReviewResult
from rag.store.grids import Mark
from rag.types import Quote

_STATUS_TEXT = {FOUND: "", "not_stated": "Not stated", FAILED: "Failed"}
_FILLS = {"verified": "C6EFCE", "flagged": "FFC7A0", "overwritten": "DDEBF7"}


def shown_answer(cell: Cell | None, mark: Mark | None) -> str:
    """What the grid shows in a cell: the reviewer's text if overwritten, else the answer."""
    if mark is not None and mark.mark == "overwritten":
        return mark.text
    if cell is None:
        return ""
    if cell.status == FOUND and cell.written is not None:
        # The model's answer where the checker backs every sentence; else the extractive
        # answer leads and the model's follows, its unverified sentences marked as in ask.
        if cell.written.verified:
            return cell.written.text
        return f"{cell.answer} \u00b7 model: {cell.written.marked()}"
    return cell.answer if cell.status == FOUND else _STATUS_TEXT.get(cell.status, cell.status)


def _first_quote(cell: Cell | None) -> tuple[str, str]:
    if cell is None or not cell.quotes:
        return "", ""
    q = cell.quotes[0]
    return " ".join(q.text.split()), q.location


def write_csv(path: Path, result: ReviewResult, marks: Mapping[tuple[int, str], Mark] | None = None) -> None:
    """One row per cell: its document, column, status, answer, mark and its first quote."""
    marks = marks or {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "column", "status", "answer", "mark", "note", "quote", "page", "location"])
        for doc in result.documents:
            for col in result.columns:
                cell = result.cell(doc.id, col.name)
                mark = marks.get((doc.id, col.name))
                quote, where = _first_quote(cell)
                page = cell.quotes[0].passage.page if cell is not None and cell.quotes else ""
                w.writerow([doc.name, col.name, cell.status if cell else "", shown_answer(cell, mark),
                            mark.mark if mark else "", mark.note if mark else "", quote, page, where])


def write_xlsx(path: Path, result: ReviewResult, marks: Mapping[tuple[int, str], Mark] | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    marks = marks or {}
    wb = Workbook()
    ws = wb.active
    ws.title = "Review"
    header = ["Document"]
    for col in result.columns:
        header += [col.name, f"{col.name}: quote"]
    ws.append(header)
    for c in ws[1]:
        c.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, doc in enumerate(result.documents, start=2):
        ws.cell(r, 1, doc.name).alignment = wrap
        for i, col in enumerate(result.columns):
            cell = result.cell(doc.id, col.name)
            mark = marks.get((doc.id, col.name))
            quote, where = _first_quote(cell)
            answer = ws.cell(r, 2 + 2 * i, shown_answer(cell, mark))
            answer.alignment = wrap
            source = ws.cell(r, 3 + 2 * i, f"\u201c{quote}\u201d ({where})" if quote else "")
            source.alignment = wrap
            notes = []
            if quote:
                notes.append(f"{where}: \u201c{quote[:800]}\u201d")
            if mark is not None:
                answer.fill = PatternFill("solid", fgColor=_FILLS[mark.mark])
                if mark.mark == "overwritten" and cell is not None:
                    notes.append(f"engine's answer: {shown_answer(cell, None)}")
                notes.append(f"{mark.mark}" + (f": {mark.note}" if mark.note else ""))
            if notes:
                answer.comment = Comment("\n\n".join(notes), "docqa")
    ws.freeze_panes = "B2"
    ws.column_dimensions["A"].width = 40
    for i in range(len(result.columns)):
        ws.column_dimensions[ws.cell(1, 2 + 2 * i).column_letter].width = 28
        ws.column_dimensions[ws.cell(1, 3 + 2 * i).column_letter].width = 50

    src = wb.create_sheet("Sources")
    src.append(["Document", "Column", "Status", "Answer", "Mark", "Note", "Quote #", "Page", "Location",
                "Start", "End", "Quote"])
    for c in src[1]:
        c.font = Font(bold=True)
    for doc in result.documents:
        for col in result.columns:
            cell = result.cell(doc.id, col.name)
            mark = marks.get((doc.id, col.name))
            head = [doc.name, col.name, cell.status if cell else "", shown_answer(cell, mark),
                    mark.mark if mark else "", mark.note if mark else ""]
            quotes = cell.quotes if cell is not None else []
            if not quotes:
                src.append([*head, "", "", "", "", "", ""])
            for k, q in enumerate(quotes, start=1):
                src.append([*head, k, q.passage.page, q.location, q.start, q.end, " ".join(q.text.split())])
    wb.save(path)


_MARK_TEXT = {"verified": "\u2713 verified", "flagged": "\u2691 flagged", "overwritten": "\u270e overwritten"}


def write_docx_memo(path: Path, result: ReviewResult, marks: Mapping[tuple[int, str], Mark] | None = None,
                     title: str = "Review memo") -> None:
    """A Word memo of the grid: ``title``, a line saying what was reviewed, the table of
    documents × columns (short answers, the reviewer's marks), and a footnote per quote
    ("quote" — file, page, location), Word's own, numbered in reading order."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import parse_xml
    from docx.shared import Pt, RGBColor

    from rag.docx_footnotes import W_NS, Footnotes

    marks = marks or {}
    doc = Document()
    section = doc.sections[0]
    if len(result.columns) > 3:  # a wide grid reads better across the page
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    doc.add_heading(title, level=1)
    found = sum(1 for c in result.cells.values() if c.status == FOUND)
    doc.add_paragraph(
        f"{len(result.documents)} documents \u00d7 {len(result.columns)} questions; {found} of "
        f"{len(result.cells)} answers found in the documents, each quoted in the footnotes."
        + (" The review was stopped before every cell was done." if result.cancelled else ""))
    questions = doc.add_paragraph()
    for col in result.columns:
        questions.add_run(f"{col.name}: ").bold = True
        questions.add_run(f"{col.question}\n")
    footnotes = Footnotes()
    table = doc.add_table(rows=1 + len(result.documents), cols=1 + len(result.columns))
    table.style = "Table Grid"
    for i, name in enumerate(["Document", *(c.name for c in result.columns)]):
        table.cell(0, i).paragraphs[0].add_run(name).bold = True
    grey = RGBColor(0x6F, 0x74, 0x7C)
    for r, d in enumerate(result.documents, start=1):
        table.cell(r, 0).paragraphs[0].add_run(d.name)
        for i, col in enumerate(result.columns, start=1):
            cell = result.cell(d.id, col.name)
            mark = marks.get((d.id, col.name))
            para = table.cell(r, i).paragraphs[0]
            run = para.add_run(shown_answer(cell, mark))
            if cell is None or cell.status != FOUND:
                run.italic, run.font.color.rgb = True, grey
            for q in cell.quotes if cell is not None else []:
                footnotes.add_reference(para, _footnote(d.name, q))
            if mark is not None:
                fill = _FILLS[mark.mark]
                table.cell(r, i)._tc.get_or_add_tcPr().append(
                    parse_xml(f'<w:shd xmlns:w="{W_NS}" w:val="clear" w:color="auto" w:fill="{fill}"/>'))
                tag = table.cell(r, i).add_paragraph().add_run(_MARK_TEXT[mark.mark])
                tag.font.size, tag.bold = Pt(8), True
                why = [mark.note] if mark.note else []
                if mark.mark == "overwritten" and cell is not None:
                    why.append(f"engine's answer: {shown_answer(cell, None)}")
                if why:
                    footnotes.add_reference(tag._parent, f"Reviewer ({mark.mark}): " + "; ".join(why))
    for row in table.rows:
        for c in row.cells:
            for p in c.paragraphs:
                for run in p.runs:
                    run.font.size = run.font.size or Pt(9)
    footnotes.attach(doc)
    doc.save(str(path))


def _footnote(file: str, q: Quote) -> str:
    # The location mostly says the page ("page 4, \u00a7 12.3"); where its format has a
    # place of its own (a section's line, a sheet's rows) the page goes before it.
    where = q.location if q.location.startswith("page") else f"page {q.passage.page}, {q.location}"
    return f"\u201c{' '.join(q.text.split())}\u201d \u2014 {file}, {where}"
