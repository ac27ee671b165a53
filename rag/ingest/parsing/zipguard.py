"""Refuse zip bombs before a reader opens them.

DOCX, PPTX and XLSX are zip files. A crafted one ("42.zip" named .docx) expands a few
hundred kilobytes into gigabytes; python-docx and openpyxl would read it whole. The zip's
own directory says how big each member claims to be, so that is checked first (cheap);
a directory that lies still meets the parse worker's memory cap.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from rag.protocols import ParseError

MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # all members together, unpacked
MAX_RATIO = 200  # unpacked / packed for any member over MAX_SMALL; text packs ~10x, zeros 1000x
MAX_SMALL = 10 * 1024 * 1024  # members smaller than this may pack as well as they like
MAX_MEMBERS = 20_000


def check_zip(path: Path, kind: str) -> None:
    """Raise :class:`ParseError` if ``path`` is not a zip or would expand like a bomb."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ParseError(
            f"the {kind.upper()} file is damaged or is not really a {kind.upper()} file ({err})"[:200]
        ) from err
    if len(infos) > MAX_MEMBERS:
        raise ParseError(f"the {kind.upper()} file holds {len(infos)} parts; it looks hostile and was not opened")
    total = 0
    for info in infos:
        total += info.file_size
        packed = max(1, info.compress_size)
        if info.file_size > MAX_SMALL and info.file_size / packed > MAX_RATIO:
            raise ParseError(
                f"the {kind.upper()} file would expand to {info.file_size // (1024 * 1024)} MB from "
                f"{packed // 1024} KB when opened (a 'zip bomb'); it was not opened"
            )
    if total > MAX_TOTAL_BYTES:
        raise ParseError(
            f"the {kind.upper()} file would expand to {total // (1024 * 1024)} MB when opened; it was not opened"
        )
