"""Human locations that fit each format: "sheet Invoices, rows 2–14", "12 Termination › ¶ 9",
"notes.md: Fees › line 14", "retainer.eml › contract.pdf, page 2".

Parsers mark their page text with :class:`rag.types.Anchor` s (an offset and what starts
there); a chunk's location is read from the anchors around its span when it is made and
stored with it, so it survives without the original file. PDF pages carry no anchors:
for them "page N" (and the heading path) says it, as before.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from rag.types import Anchor, Page, ParsedDocument
from rag.where import render


def _n_at(page: Page, anchor: Anchor, pos: int) -> int:
    """The unit number at ``pos``: lines count on from their anchor, other units are whole."""
    if anchor.unit == "line":
        return anchor.n + page.text.count("\n", anchor.offset, pos)
    return anchor.n


def anchor_location(page: Page, start: int, end: int) -> str:
    """Where ``page.text[start:end]`` is, from the page's anchors ("" without any)."""
    anchors = page.anchors
    if not anchors:
        return ""
    offsets = [a.offset for a in anchors]
    i = max(0, bisect_right(offsets, start) - 1)
    j = max(i, bisect_right(offsets, max(start, end - 1)) - 1)
    if i < j and not anchors[i].unit and anchors[i + 1].context == anchors[i].context:
        i += 1  # a chunk opening on a heading is located by the paragraphs under it
    first, last = anchors[i], anchors[j]
    a = _n_at(page, first, max(start, first.offset))
    if (last.context, last.unit) == (first.context, first.unit):
        b = _n_at(page, last, max(end - 1, last.offset))
        return render(first.context, first.unit, a, max(a, b))
    return render(first.context, first.unit, a, a)


def locate(doc: ParsedDocument, page: Page, start: int, end: int) -> str:
    """The location of a chunk of ``page``; "" where "page N" says it (a PDF of its own)."""
    where = anchor_location(page, start, end)
    if not doc.where:
        return where
    if where:  # "mail.eml › bills.xlsx, sheet Invoices, rows 2–4" but "mail.eml › memo.docx › Fees › ¶ 2"
        plain = where.split(" ", 1)[0] in ("sheet", "row", "rows", "line", "lines", "slide")
        return f"{doc.where}{', ' if plain else ' › '}{where}"
    # An attachment with pages (a PDF attached to an e-mail): its own page.
    return f"{doc.where}, page {page.number}" if len(doc.pages) > 1 or doc.kind == "pdf" else doc.where


def line_anchors(text: str, headings: list[tuple[int, str]], first_line: int = 1) -> tuple[Anchor, ...]:
    """Anchors for plain text: one at the top and one per heading (``(offset, title)``),
    each counting lines from ``first_line`` (the file's line of the text's offset 0)."""
    out = [Anchor(0, "", "line", first_line)]
    for off, title in headings:
        n = first_line + text.count("\n", 0, off)
        if off == 0:
            out[0] = Anchor(0, title, "line", n)
        else:
            out.append(Anchor(off, title, "line", n))
    return tuple(out)


def cite(file: str, location: str) -> tuple[str, str]:
    """``(file, location)`` to show together, without naming an attachment twice:
    ("matter/mail.eml › lease.pdf", "mail.eml › lease.pdf, page 1") shows as
    ("matter/mail.eml › lease.pdf, page 1", ""), and a location that is only the
    attachment's name as ("matter/mail.eml › memo.txt", "")."""
    base = re.split(r"[/\\]", file)[-1]  # the shown name may carry a Windows path
    rest = location[len(base):]
    # Only a whole name followed by a separator: "sheet" is no prefix of "sheet Invoices".
    if location.startswith(base) and (not rest or rest.startswith((", ", " › "))):
        return file + rest, ""
    return file, location
