"""Real Word footnotes for python-docx, which has no footnote API (the chat export in
desktop/ and the review memo in rag/ask/review/export.py).

A footnotes part (``word/footnotes.xml``) is added to the document and each reference is
a ``w:footnoteReference`` run, so Word and LibreOffice number, place and link the notes
as they would their own.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
FOOTNOTES_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"

_SEPARATORS = (
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r>'
    "</w:p></w:footnote>"
)
_SUPERSCRIPT = '<w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'


class Footnotes:
    """Collects notes while the document is written; :meth:`attach` adds the part."""

    def __init__(self) -> None:
        self._notes: list[str] = []

    def add_reference(self, paragraph: Any, text: str) -> int:
        """Append a footnote reference to ``paragraph`` whose note reads ``text``."""
        from docx.oxml import parse_xml

        self._notes.append(text)
        note_id = len(self._notes)
        run = parse_xml(f'<w:r xmlns:w="{W_NS}">{_SUPERSCRIPT}<w:footnoteReference w:id="{note_id}"/></w:r>')
        paragraph._p.append(run)
        return note_id

    def xml(self) -> bytes:
        notes = "".join(
            f'<w:footnote w:id="{i}"><w:p><w:pPr><w:spacing w:after="0"/></w:pPr>'
            f'<w:r>{_SUPERSCRIPT}<w:footnoteRef/></w:r>'
            f'<w:r><w:rPr><w:sz w:val="18"/></w:rPr><w:t xml:space="preserve"> {escape(text)}</w:t></w:r>'
            "</w:p></w:footnote>"
            for i, text in enumerate(self._notes, 1)
        )
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<w:footnotes xmlns:w="{W_NS}">{_SEPARATORS}{notes}</w:footnotes>').encode()

    def attach(self, document: Any) -> None:
        from docx.opc.packuri import PackURI
        from docx.opc.part import Part

        part = Part(PackURI("/word/footnotes.xml"), FOOTNOTES_CT, self.xml(), document.part.package)
        document.part.relate_to(part, FOOTNOTES_RT)
