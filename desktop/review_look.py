"""How a review cell looks: its status and mark as drawn icons and tints, and the hover
text with its quotes (the model asks for these; kept apart so the model stays about data)."""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from rag.ask.review.cells import FAILED, FOUND, NOT_STATED, Cell
from rag.ask.review.columns import Column
from rag.ask.review.export import shown_answer
from rag.ingest.locations import cite
from rag.store.grids import Mark

PENDING = "pending"  # a cell queued in the running review
VERIFIED, FLAGGED, OVERWRITTEN = "verified", "flagged", "overwritten"

# Mid-tone colours: readable as icons and as translucent tints on the light and the dark palette.
STATUS_COLOUR = {FOUND: "#2e9d5b", NOT_STATED: "#8a8f98", FAILED: "#d9534f", PENDING: "#8a8f98"}
MARK_COLOUR = {VERIFIED: "#2e9d5b", FLAGGED: "#e8710a", OVERWRITTEN: "#3d7fd9"}
STATUS_WORDS = {FOUND: "found", NOT_STATED: "not stated", FAILED: "failed", PENDING: "being computed", "": "not computed"}


def icon(kind: str) -> QIcon:
    """A small drawn icon (no font glyphs: the flag and check must look the same everywhere)."""
    pm = QPixmap(16, 16)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(MARK_COLOUR.get(kind) or STATUS_COLOUR.get(kind, "#8a8f98"))
    white = QPen(QColor("white"), 2.0)
    if kind == FLAGGED:
        p.setPen(QPen(colour, 2.0))
        p.drawLine(QPointF(4, 2), QPointF(4, 15))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([QPointF(4, 2), QPointF(14, 5.5), QPointF(4, 9)]))
    elif kind == NOT_STATED:
        p.setPen(QPen(colour, 1.6))
        p.drawEllipse(QPointF(8, 8), 5.5, 5.5)
        p.drawLine(QPointF(5, 8), QPointF(11, 8))
    elif kind == PENDING:
        p.setPen(QPen(colour, 1.4, Qt.PenStyle.DotLine))
        p.drawEllipse(QPointF(8, 8), 5.5, 5.5)
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        if kind == OVERWRITTEN:
            p.drawRoundedRect(1, 1, 14, 14, 3, 3)
        else:
            r = 4.5 if kind == FOUND else 7.0  # found: a plain dot; a mark's badge is larger
            p.drawEllipse(QPointF(8, 8), r, r)
        p.setPen(white)
        if kind == VERIFIED:
            path = QPainterPath(QPointF(4.5, 8.5))
            path.lineTo(7, 11)
            path.lineTo(11.5, 5)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
        elif kind == FAILED:
            p.drawLine(QPointF(8, 4), QPointF(8, 9))
            p.drawPoint(QPointF(8, 12))
        elif kind == OVERWRITTEN:
            p.drawLine(QPointF(4.5, 4.5), QPointF(11.5, 4.5))
            p.drawLine(QPointF(8, 4.5), QPointF(8, 12))
    p.end()
    return QIcon(pm)


def tint(mark: str) -> QBrush:
    colour = QColor(MARK_COLOUR[mark])
    colour.setAlpha(70)
    return QBrush(colour)


def quote_tooltip(cell: Cell | None, mark: Mark | None, column: Column) -> str:
    """The hover text: the question, the answer and its quotes with where they are."""
    out = [f"<b>{html.escape(column.name)}</b>: <i>{html.escape(column.question)}</i>"]
    if cell is None:
        out.append("Not computed yet: run the review (Ctrl+R).")
    elif cell.status == FAILED:
        out.append(f"Could not be computed: {html.escape(cell.error or 'see the log file')}")
    elif cell.status == NOT_STATED:
        out.append("Not stated in this document: no passage says it the way documents do.")
    # The first quote is the deciding one (it holds the column's cue); the others are
    # context that can mislead in a glance, so they stay in the viewer and the export.
    for q in (cell.quotes[:1] if cell is not None else []):
        text = " ".join(q.text.split())
        if len(text) > 600:
            text = text[:600].rsplit(" ", 1)[0] + " …"
        file, where = cite(q.passage.file, q.location)
        shown = f"{file}, {where}" if where else file
        out.append(f"“{html.escape(text)}”<br><small>— {html.escape(shown)}</small>")
    if cell is not None and cell.quotes:
        more = len(cell.quotes) - 1
        out.append("<small>Click or press Enter to see it in the document."
                   + (f" {more} more quote{'s' if more != 1 else ''} in the export's Sources sheet." if more else "")
                   + "</small>")
    if mark is not None:
        said = f"<b>{mark.mark.capitalize()}</b>"
        if mark.mark == OVERWRITTEN and cell is not None:
            said += f" (the engine said: {html.escape(shown_answer(cell, None) or '—')})"
        if mark.note:
            said += f". Note: {html.escape(mark.note)}"
        out.append(said)
    return "<qt>" + "<br><br>".join(out) + "</qt>"
