"""``docqa review``: one question per column over every document (or the chosen ones),
each cell a quote or "not stated"; one JSON line per cell, a CSV or an XLSX.

Progress and the time left go to stderr; Ctrl+C stops between cells and keeps (and
writes) the cells done, exit 130. A saved grid (``--grid NAME``) keeps its columns, and
its cells are cached: the next run computes only new documents and edited columns.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rag.cli.common import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, chosen_documents
from rag.cli.common import open_library as _open
from rag.cli.text import shown


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from rag.ask.review.columns import PRESETS

    p = sub.add_parser("review", help="one question per column over every document: a grid of quotes")
    p.add_argument("--column", action="append", default=[], metavar="NAME=QUESTION",
                   help="a column: its name and the question asked of each document (repeatable)")
    p.add_argument("--preset", choices=sorted(PRESETS), help="built-in columns (added before --column's)")
    p.add_argument("--document", action="append", metavar="FILE", help="review only this document (repeatable)")
    p.add_argument("--grid", metavar="NAME", help="save the columns as this grid (or reuse its columns)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON line per cell")
    out.add_argument("--csv", type=Path, metavar="OUT", help="write the grid as CSV")
    out.add_argument("--xlsx", type=Path, metavar="OUT", help="write the grid as an Excel workbook")


def review(args: argparse.Namespace) -> int:
    from rag.ask.review.cells import FAILED, FOUND, Cell
    from rag.ask.review.columns import PRESETS, Column
    from rag.ask.review.engine import ReviewProgress, ReviewResult
    from rag.cancel import CancelToken

    columns = list(PRESETS[args.preset]) if args.preset else []
    columns += [Column.parse(spec) for spec in args.column if spec.strip()]
    lib = _open(args)
    try:
        grid = lib.saved_grid(args.grid) if args.grid else None
        if not columns and grid is not None:
            columns = [Column(n, q) for n, q in grid.columns]
        if not columns:
            print("error: give --column NAME=QUESTION, --preset NAME or a saved --grid", file=sys.stderr)
            return EXIT_ERROR
        if len({c.name for c in columns}) < len(columns):
            print("error: two columns have the same name", file=sys.stderr)
            return EXIT_ERROR
        documents = chosen_documents(lib, args.document)
        if documents is None and grid is not None and grid.documents is not None:
            documents = [d.id for d in lib.documents() if d.path in set(grid.documents)]
        grid_id = None
        if args.grid and not lib.read_only:
            chosen = [d.path for d in lib.documents() if d.id in set(documents)] if documents is not None else None
            grid_id = lib.save_grid(args.grid, columns, chosen)
        names = {d.id: d.name for d in lib.documents()}
        done: list[Cell] = []
        cancel = CancelToken()
        last = [0.0]

        def on_cell(cell: Cell) -> None:
            done.append(cell)
            if args.json:
                print(json.dumps(cell.to_json(names[cell.doc_id])), flush=True)

        def on_progress(p: ReviewProgress) -> None:
            now = time.monotonic()
            if now - last[0] < 0.5 and p.done < p.total:
                return
            last[0] = now
            eta = f", about {_clock(p.eta)} left" if p.eta else ""
            end = "\n" if p.done == p.total else ""
            sys.stderr.write(f"\r{p.done}/{p.total} cells ({p.done - p.computed} cached){eta}   {end}")
            sys.stderr.flush()

        try:
            result = lib.review(columns, documents, on_cell=on_cell, on_progress=on_progress, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            docs = [d for d in lib.documents() if documents is None or d.id in set(documents)]
            result = ReviewResult(docs, columns, {(c.doc_id, c.column.name): c for c in done}, cancelled=True)
            print(f"\n[stopped: {len(done)} cells kept]", file=sys.stderr)
        marks = lib.marks(grid_id) if grid_id is not None else {}
        if args.xlsx or args.csv:
            from rag.ask.review import export

            (export.write_xlsx if args.xlsx else export.write_csv)(args.xlsx or args.csv, result, marks)
            lib.record_export("xlsx" if args.xlsx else "csv", len(result.cells))
            print(f"wrote {len(result.cells)} cells to {shown(str(args.xlsx or args.csv))}", file=sys.stderr)
        elif not args.json:
            _print_grid(result, names)
    finally:
        lib.close()
    if result.cancelled:
        return EXIT_CANCELLED
    found = sum(1 for c in result.cells.values() if c.status == FOUND)
    print(f"{found} of {len(result.cells)} cells found ({result.computed} computed, {result.cached} cached)",
          file=sys.stderr)
    return EXIT_PARTIAL if any(c.status == FAILED for c in result.cells.values()) else EXIT_OK


def _print_grid(result: object, names: dict[int, str]) -> None:
    from rag.ask.review.cells import FOUND
    from rag.ask.review.engine import ReviewResult

    assert isinstance(result, ReviewResult)
    for doc in result.documents:
        print(shown(doc.name))
        for col in result.columns:
            cell = result.cell(doc.id, col.name)
            if cell is None:
                continue
            text = cell.answer if cell.status == FOUND else cell.status.replace("_", " ")
            where = f"  ({cell.quotes[0].location})" if cell.quotes else ""
            print(f"  {shown(col.name)}: {shown(text)}{where}")


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"
