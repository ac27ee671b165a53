"""Spreadsheets (XLSX through openpyxl, CSV through the standard library) as rows that
keep their header: "Client: Abernathy Holdings · Matter: arbitration retainer · Amount:
18500", each row anchored so a passage is located as "sheet Invoices, rows 2–14".

A row alone ("Abernathy Holdings, 18500") means nothing to search or to a reader; with
its column names it answers "how much was the Abernathy retainer?". Huge sheets are cut
at a cap with a note saying so, rather than filling memory with a log export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from pathlib import Path

from rag.ingest.parsing.zipguard import check_zip
from rag.protocols import ParseError
from rag.types import Anchor, Page, ParsedDocument

MAX_ROWS = 100_000  # per file; a matter's billing sheet has hundreds
MAX_CELLS = 2_000_000
MAX_CELL_CHARS = 2_000
SEP = " · "


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())[:MAX_CELL_CHARS]


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


class _Table:
    """Rows of one sheet, turned into a page of "Header: value" lines with row anchors."""

    def __init__(self, context: str) -> None:
        self.context = context
        self.header: list[str] | None = None
        self.started = False  # the first row with data decides whether there is a header
        self.parts: list[str] = []
        self.anchors: list[Anchor] = []
        self.size = 0

    def add(self, number: int, cells: list[str]) -> int:
        """Add sheet row ``number``; returns the cells it used."""
        if not any(cells):
            return 0
        if not self.started:
            self.started = True
            if all(not _numeric(c) for c in cells if c):
                self.header = cells
                return len(cells)
        pairs = []
        for i, value in enumerate(cells):
            if value:
                name = self.header[i] if self.header and i < len(self.header) and self.header[i] else ""
                pairs.append(f"{name or 'column ' + _column(i)}: {value}")
        self.anchors.append(Anchor(self.size, self.context, "row", number))
        line = SEP.join(pairs)
        self.parts.append(line)
        self.size += len(line) + 2
        return len(cells)

    def page(self, number: int) -> Page | None:
        if not self.parts and self.header:  # a header and nothing else: still its words
            self.parts.append(SEP.join(c for c in self.header if c))
            self.anchors.append(Anchor(0, self.context, "row", 1))
        if not self.parts:
            return None
        return Page(number, "\n\n".join(self.parts), tuple(self.anchors))


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def _read(sheets: Iterable[tuple[str, Iterable[tuple[int, list[str]]]]], kind: str, title: str) -> ParsedDocument:
    pages: list[Page] = []
    notes: list[str] = []
    rows = cells = 0
    for name, table_rows in sheets:
        table = _Table(f"sheet {name}" if name else "")
        for number, row in table_rows:
            if rows >= MAX_ROWS or cells >= MAX_CELLS:
                notes.append(f"only the first {rows:,} rows were read (the limit is {MAX_ROWS:,} rows "
                             f"or {MAX_CELLS:,} cells per file)")
                break
            cells += table.add(number, row)
            rows += 1
        page = table.page(len(pages) + 1)
        if page is not None:
            pages.append(page)
        if notes:
            break
    if not pages:
        raise ParseError("the spreadsheet has no data in it")
    return ParsedDocument(pages=pages, kind=kind, title=title, notes=tuple(notes))


class SpreadsheetParser:
    kinds: tuple[str, ...] = ("xlsx", "xlsm", "csv", "tsv")

    def parse(self, path: Path) -> ParsedDocument:
        kind = path.suffix.lower().lstrip(".")
        if kind in ("csv", "tsv"):
            return _read([("", _csv_rows(path))], kind, path.stem)
        check_zip(path, kind)
        import openpyxl

        try:
            book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
        except Exception as err:  # noqa: BLE001 (openpyxl raises many types on damaged files)
            raise ParseError(f"could not read this {kind.upper()} file; it may be damaged ({err})"[:200]) from err
        try:
            return _read(((ws.title, _xlsx_rows(ws)) for ws in book.worksheets), kind, path.stem)
        finally:
            book.close()


def _xlsx_rows(ws: object) -> Iterable[tuple[int, list[str]]]:
    # A sheet's stored dimensions can claim "A1:XFD1048576": read the cells that exist.
    reset = getattr(ws, "reset_dimensions", None)
    if reset is not None:
        reset()
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        yield number, [_cell(v) for v in row]


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp1252", errors="replace")  # what Excel on Windows writes


def _csv_rows(path: Path) -> Iterable[tuple[int, list[str]]]:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096] and raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        raise ParseError("this looks like a binary file, not a CSV table")
    text = _decode(raw)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    csv.field_size_limit(MAX_CELL_CHARS * 50)
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
            yield number, [_cell(v) for v in row]
    except csv.Error as err:
        raise ParseError(f"the CSV file is malformed ({err})"[:200]) from err
