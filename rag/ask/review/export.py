"""A review grid on paper: XLSX (openpyxl, MIT) and CSV.

The XLSX's first sheet is the grid a reviewer reads: one row per document, each column's
short answer with its first quote and location in the column beside it (and in the
answer cell's comment), verified cells green, flagged ones orange, overwritten ones
showing the reviewer's text with the engine's answer kept in the comment. The Sources
sheet lists every quote of every cell with its page, location and offsets, and the marks
and notes, so that each answer can be traced to the exact words it stands on.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from rag.ask.review.cells import FAILED, FOUND, Cell
from rag.ask.review.engine import ReviewResult
from rag.store.grids import Mark

_STATUS_TEXT = {FOUND: "", "not_stated": "Not stated", FAILED: "Failed"}
_FILLS = {"verified": "C6EFCE", "flagged": "FFC7A0", "overwritten": "DDEBF7"}


def shown_answer(cell: Cell | None, mark: Mark | None) -> str:
    """What the grid shows in a cell: the reviewer's text if overwritten, else the answer."""
    if mark is not None and mark.mark == "overwritten":
        return mark.text
    if cell is None:
        return ""
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
