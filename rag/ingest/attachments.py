"""An e-mail's attachments as documents of their own.

The message's parser only lifts the attachments out (names and bytes); each one is then
parsed on its own, through the same isolated worker as any file, so a hostile attachment
(a zip bomb, a PDF that hangs pdfium) fails alone and the message and its other
attachments are still indexed. A child document is known by a path that cannot exist on
disk, ``/matter/retainer.eml::contract.pdf``, and by its parent's id in the manifest,
so removing the message removes it.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from rag.types import Attachment, ParsedDocument

MAX_DEPTH = 3  # a message attached to a message attached to a message, and no deeper
SEPARATOR = "::"  # between the message's path and the attachment's name
_UNSAFE = re.compile(r"[\\/:\x00-\x1f]+")


def safe_name(name: str) -> str:
    """The attachment's name as a file name of its own (no folders, no control chars)."""
    cleaned = _UNSAFE.sub("_", name).strip(" .") or "attachment"
    return cleaned[-120:]


def unique(attachments: tuple[Attachment, ...]) -> list[tuple[str, Attachment]]:
    """Each attachment with a name unique within its message ("scan.pdf", "scan (2).pdf")."""
    seen: dict[str, int] = {}
    out = []
    for att in attachments:
        name = safe_name(att.name)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            stem, dot, ext = name.rpartition(".")
            name = f"{stem} ({seen[name]}).{ext}" if dot and stem else f"{name} ({seen[name]})"
        out.append((name, att))
    return out


def child_path(parent_path: str, name: str) -> Path:
    return Path(f"{parent_path}{SEPARATOR}{name}")


def child_where(parent: ParsedDocument, parent_name: str, name: str) -> str:
    """"retainer.eml › contract.pdf": how the child's locations start."""
    return f"{parent.where or Path(parent_name).name} › {name}"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_attachment(name: str, att: Attachment, parse: Callable[[Path], ParsedDocument]) -> ParsedDocument:
    """Parse the attachment's bytes as a file named ``name`` (its suffix picks the parser)."""
    with tempfile.TemporaryDirectory(prefix="docqa-attachment-") as tmp:
        f = Path(tmp) / name
        f.write_bytes(att.data)
        return parse(f)
