"""Parsers that behave like a parser meeting a hostile file: one hangs, one crashes its
process. pdfium does both on crafted input in the wild; no such file can be shipped
here, so these stand in for it. They live in a module (not a test) because the
isolated parser pickles them into its worker process."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rag.types import Page, ParsedDocument


class HangingParser:
    kinds = ("hang",)

    def parse(self, path: Path) -> ParsedDocument:
        while True:  # like a parser stuck in a cycle of objects
            time.sleep(0.01)


class CrashingParser:
    kinds = ("crash",)

    def parse(self, path: Path) -> ParsedDocument:
        os.abort()  # like a segfault in C code: no exception, the process is gone


class TextParser:
    kinds = ("txt",)

    def parse(self, path: Path) -> ParsedDocument:
        return ParsedDocument(pages=[Page(1, path.read_text())], kind="txt")


class GreedyParser:
    kinds = ("bomb",)

    def parse(self, path: Path) -> ParsedDocument:
        blocks = [bytearray(1 << 30) for _ in range(64)]  # like a decompression bomb: 64 GB
        return ParsedDocument(pages=[Page(1, str(len(blocks)))], kind="bomb")
