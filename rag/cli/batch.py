"""``docqa search --batch``: one JSON line of results per line of questions.

A bad line (not JSON, no "query", not UTF-8) does not stop the others: it is reported
on stderr with its line number, and its output line carries an "error" instead of
results, so the answers stay aligned with the questions that asked them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.cli.text import NOT_UTF8, question_problem, shown

if TYPE_CHECKING:
    from rag.library import Library

EXPECTED = 'expected {"query": "…"}'


@dataclass(frozen=True)
class Line:
    """One non-blank line of a batch file: its question, or why it has none."""

    number: int
    query: str | None
    error: str | None = None


def read_lines(path: Path) -> Iterator[Line]:
    """The questions of a JSONL file, line by line (blank lines skipped)."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as Notepad writes
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield Line(number, None, NOT_UTF8)
                continue
            if not line.strip():
                continue
            yield _parse(number, line.strip())


def _parse(number: int, line: str) -> Line:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return Line(number, None, f"not valid JSON ({err.msg}, column {err.colno}); {EXPECTED}")
    except RecursionError:  # "[[[[…" thousands deep
        return Line(number, None, f"not valid JSON (nested too deeply); {EXPECTED}")
    if not isinstance(obj, dict) or "query" not in obj:
        return Line(number, None, f'no "query"; {EXPECTED}')
    q = obj["query"]
    if not isinstance(q, str):
        return Line(number, None, f'"query" is not text; {EXPECTED}')
    problem = question_problem(q)
    return Line(number, None if problem else q, problem)


def run(lib: Library, path: Path, k: int, documents: list[int] | None = None) -> bool:
    """Answer each line of ``path`` on stdout; False if a line could not be answered."""
    all_ok = True
    for line in read_lines(path):
        if line.query is None:
            all_ok = False
            print(f"line {line.number} skipped: {shown(line.error or '')}", file=sys.stderr, flush=True)
            # null, not the text: a question that is not UTF-8 has no JSON text to give
            print(json.dumps({"query": None, "results": [], "error": line.error, "line": line.number}),
                  flush=True)
            continue
        res = [p.to_json() for p in lib.search(line.query, k, documents)]
        print(json.dumps({"query": line.query, "results": res}), flush=True)
    return all_ok
