"""Pick a parser by file suffix and turn every failure into a one-line reason."""

from __future__ import annotations

from pathlib import Path

from rag.parsing.office import OfficeParser
from rag.parsing.pdf import PdfParser
from rag.protocols import ParseError, Parser
from rag.types import ParsedDocument

MAX_FILE_BYTES = 512 * 1024 * 1024  # beyond this a "document" is almost surely not one


class ParserRegistry:
    def __init__(self, parsers: list[Parser] | None = None) -> None:
        self._by_kind: dict[str, Parser] = {}
        for parser in parsers or [PdfParser(), OfficeParser()]:
            for kind in parser.kinds:
                self._by_kind[kind] = parser

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_kind))

    def supports(self, path: Path) -> bool:
        return path.suffix.lower().lstrip(".") in self._by_kind

    def check(self, path: Path) -> Parser:
        """The parser for ``path``, or :class:`ParseError` if it cannot even be tried."""
        if not path.exists():
            raise ParseError("file not found")
        if not path.is_file():
            raise ParseError("not a regular file")
        size = path.stat().st_size
        if size == 0:
            raise ParseError("the file is empty (0 bytes)")
        if size > MAX_FILE_BYTES:
            raise ParseError(f"the file is too large ({size // (1024 * 1024)} MB; limit 512 MB)")
        kind = path.suffix.lower().lstrip(".")
        parser = self._by_kind.get(kind)
        if parser is None:
            shown = f".{kind}" if kind else "files without an extension"
            raise ParseError(f"unsupported file type ({shown})")
        return parser

    def parse(self, path: Path) -> ParsedDocument:
        """Parse ``path`` or raise :class:`ParseError` with a reason a user understands."""
        parser = self.check(path)
        try:
            return parser.parse(path)
        except ParseError:
            raise
        except MemoryError as err:
            raise ParseError("the file is too large to read in memory") from err
        except Exception as err:  # noqa: BLE001 (a hostile file must fail alone)
            raise ParseError(f"could not read the file: {type(err).__name__}: {err}"[:200]) from err
