"""E-mail: EML through the standard library, Outlook MSG through python-oxmsg (MIT).

The message body is one document, opened by its headers (so "the e-mail from Jane in
March" finds it) and located as "From Jane Roe, 2 Mar 2026, Subject: Retainer". Its
attachments are only lifted out here, as bytes: each is parsed as a document of its own
by the ingest (:mod:`rag.ingest.attachments`), in the isolated worker, so a hostile attachment
fails alone. An attached message (.eml, or message/rfc822) comes out as an .eml
attachment and recurses the same way, to a depth limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import quopri
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

from rag.protocols import ParseError
from rag.types import Anchor, Attachment, Page, ParsedDocument

MAX_ATTACHMENTS = 100
MIN_INLINE_IMAGE_BYTES = 30_000  # smaller inline pictures are logos and signatures, not scans
# MAPI properties of an attachment (MS-OXPROPS): a picture shown in the body has a content id
# or is hidden from the attachment list.
_PID_ATTACH_CONTENT_ID = 0x3712
_PID_ATTACHMENT_HIDDEN = 0x7FFE
_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    lines = [" ".join(line.split()) for line in "".join(p.parts).split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _who(header: str) -> str:
    """"Jane Roe" from '"Jane Roe" <jane@roe.example>'; the address when there is no name."""
    pairs = getaddresses([header]) if header else []
    if not pairs:
        return ""
    name, addr = pairs[0]
    return name or addr


def _decoded(header: str) -> str:
    """'Jane Roe <...>' from '=?GBK?B?...?= <...>': Outlook keeps some senders as sent."""
    try:
        return str(make_header(decode_header(header))) if "=?" in header else header
    except (LookupError, UnicodeError, ValueError):  # an unknown charset: better raw than nothing
        return header


def _day(value: dt.datetime | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else ""


def _document(headers: list[tuple[str, str]], sent: dt.datetime | None, body: str,
              atts: list[Attachment], notes: list[str], kind: str) -> ParsedDocument:
    meta = dict(headers)
    shown = [f"{k.title()}: {v}" for k, v in headers if v and k != "date"]
    if sent:
        shown.insert(2 if len(shown) >= 2 else len(shown), f"Date: {_day(sent)}")
    text = "\n".join(shown) + ("\n\n" + body.strip() if body.strip() else "")
    where = ", ".join(x for x in (f"From {_who(meta.get('from', ''))}" if meta.get("from") else "",
                                  _day(sent),
                                  f"Subject: {meta['subject']}" if meta.get("subject") else "") if x)
    if len(atts) > MAX_ATTACHMENTS:
        notes.append(f"only the first {MAX_ATTACHMENTS} of {len(atts)} attachments were read")
        atts = atts[:MAX_ATTACHMENTS]
    if not text.strip():
        raise ParseError("the e-mail is empty")
    meta_items = [(k, v) for k, v in headers if v]
    if sent:
        meta_items.append(("date", sent.isoformat()))
    return ParsedDocument(
        pages=[Page(1, text, (Anchor(0, where or "the message"),))], kind=kind,
        title=meta.get("subject", ""), meta=tuple(meta_items), attachments=tuple(atts), notes=tuple(notes),
    )


def _name(filename: str | None, ctype: str, n: int) -> str:
    if filename:
        return filename
    ext = ".eml" if ctype == "message/rfc822" else (mimetypes.guess_extension(ctype) or ".bin")
    return f"attachment {n}{ext}"


def _attached_message(att: EmailMessage) -> bytes:
    """The bytes of an attached message; some mailers base64 it, which RFC 2046 forbids."""
    cte = str(att.get("content-transfer-encoding", "")).lower()
    if cte in ("base64", "quoted-printable"):
        body = att.as_bytes().split(b"\n\n", 1)[-1]
        return base64.b64decode(body) if cte == "base64" else quopri.decodestring(body)
    inner = att.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    return inner.as_bytes() if hasattr(inner, "as_bytes") else b""


def parse_eml(raw: bytes) -> ParsedDocument:
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        headers = [(k, str(msg.get(k, "") or "")) for k in ("from", "to", "cc", "subject")]
        try:
            sent = parsedate_to_datetime(str(msg["date"])) if msg["date"] else None
        except (TypeError, ValueError):
            sent = None
        part = msg.get_body(preferencelist=("plain", "html"))
        body = ""
        if part is not None:
            content = part.get_content()
            body = html_to_text(content) if part.get_content_type() == "text/html" else str(content)
        atts: list[Attachment] = []
        notes: list[str] = []
        for i, att in enumerate(msg.iter_attachments(), start=1):
            ctype = att.get_content_type()
            if ctype == "message/rfc822":
                data = _attached_message(att)
            else:
                payload = att.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
            if not data:
                continue
            inline = att.get_content_disposition() == "inline" or att["content-id"]
            if ctype.startswith("image/") and inline and len(data) < MIN_INLINE_IMAGE_BYTES:
                continue
            name = _name(att.get_filename(), ctype, i)
            if ctype == "message/rfc822" and not name.lower().endswith(".eml"):
                name += ".eml"
            atts.append(Attachment(name, data))
    except ParseError:
        raise
    except Exception as err:  # noqa: BLE001 (a malformed message has many ways to fail)
        raise ParseError(f"the e-mail is damaged and could not be read ({type(err).__name__})") from err
    return _document(headers, sent, body, atts, notes, "eml")


def parse_msg(path: Path) -> ParsedDocument:
    try:
        from oxmsg import Message

        msg = Message.load(str(path))
        to = ", ".join(f"{r.name} <{r.email_address}>" if r.name else r.email_address for r in msg.recipients)
        headers = [("from", _decoded(msg.sender or "")), ("to", to), ("cc", ""), ("subject", msg.subject or "")]
        sent = msg.sent_date
        body = msg.body or (html_to_text(msg.html_body) if msg.html_body else "")
        atts: list[Attachment] = []
        notes: list[str] = []
        for i, att in enumerate(msg.attachments, start=1):
            data = att.file_bytes if att.attached_by_value else None
            if not data:
                notes.append(f"attachment {att.file_name or i} is a link or an attached Outlook item, not read")
                continue
            ctype = att.mime_type or ""
            props = att.properties
            inline = props.str_prop_value(_PID_ATTACH_CONTENT_ID) or props.int_prop_value(_PID_ATTACHMENT_HIDDEN)
            # A newsletter carries its spacers and logos this way; each would fail as a
            # "picture with no text" beside the message (the same rule as for EML).
            if ctype.startswith("image/") and inline and len(data) < MIN_INLINE_IMAGE_BYTES:
                continue
            atts.append(Attachment(_name(att.file_name, ctype, i), data))
    except ParseError:
        raise
    except Exception as err:  # noqa: BLE001 (oxmsg raises many types on damaged files)
        raise ParseError(f"the Outlook message is damaged and could not be read ({type(err).__name__})") from err
    return _document(headers, sent, body, atts, notes, "msg")


class MailParser:
    kinds: tuple[str, ...] = ("eml", "msg")

    def parse(self, path: Path) -> ParsedDocument:
        if path.suffix.lower() == ".msg":
            return parse_msg(path)
        return parse_eml(path.read_bytes())

