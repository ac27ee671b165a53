"""``docqa review``: one question per column over every document (or the chosen ones),
each cell a quote or "not stated"; one JSON line per cell, a CSV, an XLSX or a DOCX memo.
With ``--answers`` the model then writes a short answer per found cell, each sentence
checked against the cell's quotes (the extractive answer stays where it fails).

Progress and the time left go to stderr; Ctrl+C stops between cells and keeps (and
writes) the cells done, exit 130. A saved grid (``--grid NAME``) keeps its columns, and
its cells are cached: the next run computes only new documents and edited columns.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.cli.common import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, chosen_documents
from rag.cli.common import open_library as _open
from rag.cli.text import int_in, shown


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
    out.add_argument("--docx", type=Path, metavar="OUT", help="write a Word memo: the grid with footnoted quotes")
    p.add_argument("--answers", action="store_true",
                   help="after the grid is filled, the model writes a short checked answer per found cell")
    p.add_argument("--model", type=Path, help="with --answers: a GGUF file (default: the bundled Gemma 3 270M)")
    p.add_argument("--ctx", type=int_in(512, 131_072), default=4096, help="with --answers: context window in tokens")
    p.add_argument("--threads", type=int_in(1, 1024), default=None)
    p.add_argument("--cpu", action="store_true", help="with --answers: never offload to a GPU")
    p.add_argument("--server", metavar="URL", help="with --answers: write them with this server, this once")
    p.add_argument("--unencrypted", action="store_true", help="with --server: allow http:// to another computer")
    p.add_argument("--local", action="store_true", help="with --answers: on this computer even if a server is set")


def review(args: argparse.Namespace) -> int:
    from rag.ask.review.cells import FAILED, FOUND, Cell
    from rag.ask.review.columns import PRESETS, Column
    from rag.ask.review.engine import ReviewProgress, ReviewResult
    from rag.cancel import CancelToken

    columns = list(PRESETS[args.preset]) if args.preset else []
    columns += [Column.parse(spec) for spec in args.column if spec.strip()]
    if args.matter and args.answers:
        print("error: --answers is not offered for team matters yet (the cells keep their extractive answers)",
              file=sys.stderr)
        return EXIT_ERROR
    if args.matter:
        from rag.cli.ask import open_matter

        lib: Any = open_matter(args.matter)  # each row computed by the server; the grid lasts this run
    else:
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

        def emit(cell: Cell) -> None:
            if args.json:
                print(json.dumps(cell.to_json(names[cell.doc_id])), flush=True)

        def on_cell(cell: Cell) -> None:
            done.append(cell)
            if not args.answers:  # with answers, each line waits for its cell's answer
                emit(cell)

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
        model_failed = _answers(args, lib, result, emit, cancel) if args.answers else False
        marks = lib.marks(grid_id) if grid_id is not None else {}
        out = args.xlsx or args.csv or args.docx
        if out:
            from rag.ask.review import export

            kind = "xlsx" if args.xlsx else "csv" if args.csv else "docx"
            if args.docx:
                export.write_docx_memo(out, result, marks, title=f"Review: {args.grid}" if args.grid else "Review memo")
            else:
                (export.write_xlsx if args.xlsx else export.write_csv)(out, result, marks)
            lib.record_export(kind, len(result.cells))
            print(f"wrote {len(result.cells)} cells to {shown(str(out))}", file=sys.stderr)
        elif not args.json:
            _print_grid(result, names)
    finally:
        lib.close()
    if result.cancelled:
        return EXIT_CANCELLED
    found = sum(1 for c in result.cells.values() if c.status == FOUND)
    print(f"{found} of {len(result.cells)} cells found ({result.computed} computed, {result.cached} cached)",
          file=sys.stderr)
    return EXIT_PARTIAL if model_failed or any(c.status == FAILED for c in result.cells.values()) else EXIT_OK


def _answers(args: argparse.Namespace, lib: Any, result: Any, emit: Callable[[Any], None], cancel: Any) -> bool:
    """The model's answers after the grid (``--answers``); True when the model could not
    be used (the cells then keep their extractive answers). Ctrl+C keeps those written."""
    from rag.ask.generation import ModelLoadError
    from rag.ask.remote_http import RemoteError
    from rag.cli.ask import _generator
    from rag.models.defaults import ModelMissing

    ordered = [c for d in result.documents for col in result.columns if (c := result.cell(d.id, col.name))]
    if result.cancelled:
        for cell in ordered:
            emit(cell)
        return False
    try:
        gen = _generator(args)
        gen.warm_up()
    except (ModelLoadError, ModelMissing, RemoteError) as err:
        print(f"error: {shown(str(err))} (the cells keep their extractive answers)", file=sys.stderr)
        for cell in ordered:
            emit(cell)
        return True
    seen: list[Any] = []

    def on_answer(cell: Any) -> None:
        seen.append(cell)
        emit(cell)
        sys.stderr.write(f"\r{len(seen)}/{len(ordered)} cells answered   " + ("\n" if len(seen) == len(ordered) else ""))
        sys.stderr.flush()

    try:
        lib.write_answers(result, gen, on_answer=on_answer, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        result.cancelled = True
        print(f"\n[stopped: {len(seen)} answers kept]", file=sys.stderr)
    finally:
        close = getattr(gen, "close", None)
        if close is not None:
            close()
    for cell in ordered[len(seen):]:
        emit(result.cell(cell.doc_id, cell.column.name))  # not reached: the extractive answer
    failed = sum(1 for c in result.cells.values() if c.error.startswith("answer not written"))
    return failed > 0 and not any(c.written for c in result.cells.values())


def _print_grid(result: object, names: dict[int, str]) -> None:
    from rag.ask.review.engine import ReviewResult
    from rag.ask.review.export import shown_answer

    assert isinstance(result, ReviewResult)
    for doc in result.documents:
        print(shown(doc.name))
        for col in result.columns:
            cell = result.cell(doc.id, col.name)
            if cell is None:
                continue
            text = shown_answer(cell, None)  # the model's answer (marked) if written
            where = f"  ({cell.quotes[0].location})" if cell.quotes else ""
            print(f"  {shown(col.name)}: {shown(text)}{where}")


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"
