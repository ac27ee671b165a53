"""Pick a parser by file suffix and turn every failure into a one-line reason."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.parsing.images import ImageParser
from rag.ingest.parsing.mail import MailParser
from rag.ingest.parsing.office import OfficeParser
from rag.ingest.parsing.pdf import PdfParser
from rag.ingest.parsing.sheets import SpreadsheetParser
from rag.protocols import ParseError, Parser, TextFirstParser
from rag.types import ParsedDocument

MAX_FILE_BYTES = 512 * 1024 * 1024  # beyond this a "document" is almost surely not one

# Old binary formats no maintained, permissively licensed reader handles well: say what to do.
LEGACY: dict[str, str] = {
    "doc": "an old Word file (.doc); save it as DOCX or PDF and add it again",
    "wpd": "a WordPerfect file (.wpd); save it as DOCX or PDF and add it again",
    "xls": "an old Excel file (.xls); save it as XLSX or PDF and add it again",
    "ppt": "an old PowerPoint file (.ppt); save it as PPTX or PDF and add it again",
}


class ParserRegistry:
    def __init__(self, parsers: list[Parser] | None = None) -> None:
        self._by_kind: dict[str, Parser] = {}
        defaults: list[Parser] = [PdfParser(), ImageParser(), SpreadsheetParser(), MailParser(), OfficeParser()]
        for parser in parsers or defaults:
            for kind in parser.kinds:
                self._by_kind[kind] = parser

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_kind))

    def supports(self, path: Path) -> bool:
        return path.suffix.lower().lstrip(".") in self._by_kind

    def legacy(self, path: Path) -> bool:
        """An old binary format (.doc, .xls) we refuse with advice rather than skip."""
        return path.suffix.lower().lstrip(".") in LEGACY and not self.supports(path)

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
        if parser is None and kind in LEGACY:
            raise ParseError(f"this is {LEGACY[kind]}")
        if parser is None:
            shown = f".{kind}" if kind else "files without an extension"
            raise ParseError(f"unsupported file type ({shown})")
        return parser

    def parse(self, path: Path, ocr: bool = True) -> ParsedDocument:
        """Parse ``path`` or raise :class:`ParseError` with a reason a user understands.

        ``ocr=False``: a parser that can (:class:`rag.protocols.TextFirstParser`) returns
        the text it has and names in ``needs_ocr`` the pages that need OCR, which the
        ingest reads at the end of the batch so that scans never hold up text files."""
        parser = self.check(path)
        try:
            if not ocr and isinstance(parser, TextFirstParser):
                return parser.parse_text(path)
            return parser.parse(path)
        except ParseError:
            raise
        except MemoryError as err:
            raise ParseError("the file is too large to read in memory") from err
        except Exception as err:  # noqa: BLE001 (a hostile file must fail alone)
            raise ParseError(f"could not read the file: {type(err).__name__}: {err}"[:200]) from err
