"""What the command line takes in and what it prints: a question or an argument checked
before it reaches the library, and names made safe to print on one line of a terminal.

A file name may hold a newline, an escape sequence or a right-to-left override; printed
as it is, it splits a listing into lines that look like other files, or rewrites the
terminal. Text output shows such characters escaped (``\\n``, ``\\x1b``, ``\\u202e``);
JSON output escapes itself and is left alone.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from typing import NoReturn

from rag.ingest.locations import cite

MAX_K = 1000
MAX_QUESTION = 10_000  # characters: a long paragraph; more is a pasted document, not a question

NOT_UTF8 = "the question is not valid text (UTF-8); check the encoding of the terminal or the file"
EMPTY = "the question is empty; type what you are looking for"

# C0 and C1 controls, DEL, the bidirectional controls, the line and paragraph separators,
# and lone surrogates (a name or argument that was not valid UTF-8, kept by surrogateescape).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    if c in _NAMED:
        return _NAMED[c]
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # surrogateescape: the byte that was not UTF-8
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def shown(text: str) -> str:
    """``text`` for one line of a terminal: control and bidi characters escaped."""
    return _UNSAFE.sub(_escape, text)


def question_problem(text: str) -> str | None:
    """Why ``text`` cannot be searched for or asked, in one line; None if it can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8
        return NOT_UTF8
    if not text.replace("\x00", "").strip():
        return EMPTY
    if len(text) > MAX_QUESTION:
        return f"the question is too long ({len(text):,} characters; at most {MAX_QUESTION:,})"
    return None


def refused(question: str) -> bool:
    """Whether ``question`` cannot be asked (saying why on stderr, in one line)."""
    problem = question_problem(question)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    return problem is not None


def _quoted(text: str, most: int = 40) -> str:
    return f"'{shown(text[:most])}{'…' if len(text) > most else ''}'"


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``lo`` to ``hi``, else one clear line."""

    def parse(text: str) -> int:
        try:
            n = int(text.strip())
        except ValueError:
            n = None
        if n is None or not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"give a whole number from {lo:,} to {hi:,}, not {_quoted(text)}")
        return n

    return parse


def seconds(text: str) -> float:
    """An argparse ``type`` for ``--wait``: zero or more seconds (not NaN: it would wait forever)."""
    try:
        s = float(text)
    except ValueError:
        s = math.nan
    if math.isnan(s) or s < 0:
        raise argparse.ArgumentTypeError(f"give a number of seconds, 0 or more, not {_quoted(text)}")
    return s


def place(file: str, location: str) -> str:
    """"nda.pdf, page 2 › 3.2 Termination", printable; an attachment's location already
    names its message and itself: "retainer.eml › lease.pdf, page 1", not twice."""
    file, location = cite(file, location)
    return shown(f"{file}, {location}" if location else file)


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose one-line errors show what was typed escaped: an unknown
    argument may hold a newline, or bytes that were not UTF-8."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {shown(message)}\n")
