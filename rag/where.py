"""How a location is written ("sheet Invoices, rows 2–14", "12 Termination › ¶ 9") and
narrowed to a quote's own rows. Plain strings only, so :mod:`rag.types` can use it
without importing the ingest side (:mod:`rag.ingest.locations` reads anchors)."""

from __future__ import annotations

import re

_PLURAL = {"row": "rows", "line": "lines", "¶": "¶", "page": "pages"}
_COMMA_UNITS = ("row", "page")  # "sheet Invoices, rows 2–14" but "12 Termination › ¶ 9"


def render(context: str, unit: str, first: int, last: int) -> str:
    if not unit:
        return context
    number = f"{_PLURAL.get(unit, unit)} {first}–{last}" if last != first else f"{unit} {first}"
    if not context:
        return number
    return f"{context}{', ' if unit in _COMMA_UNITS else ' › '}{number}"


_ROWS = re.compile(r"^(?P<context>.*?)(?P<unit>rows?) (?P<first>\d+)(?:–(?P<last>\d+))?$")


def narrow(where: str, passage_text: str, start: int, end: int) -> str:
    """The rows of a table passage (``where`` "sheet Invoices, rows 2–14") that hold its
    text from ``start`` to ``end`` (offsets into ``passage_text``): "sheet Invoices, row 7".
    Table rows are paragraphs of their own (see :mod:`rag.ingest.parsing.sheets`), so a quote's
    rows are counted by the paragraph breaks before it; other locations stay as they are."""
    m = _ROWS.match(where)
    if not m:
        return where
    first = int(m.group("first"))
    last = int(m.group("last") or first)
    a = min(last, first + passage_text.count("\n\n", 0, max(0, start)))
    b = min(last, max(a, first + passage_text.count("\n\n", 0, max(0, end - 1))))
    return m.group("context") + render("", "row", a, b)
