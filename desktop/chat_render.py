"""How an exchange reads in the chat: the quotes first, the answer with its checked
sentences and [n] links, the sources list; and as plain text for the clipboard."""

from __future__ import annotations

import html
import re

from desktop.chat_store import Exchange, SourceRef
from desktop.engine import SERVER_FAILED
from rag.ingest.locations import cite

_CITE = re.compile(r"\[(\d{1,2})\]")


QUOTE_BAR = "#e0a800"  # the viewer's highlight colour: a quote and its highlight belong together
DOUBT = "#8a8f98"  # not found in the sources: readable on light and dark, never like plain text
WRONG = "#d9534f"  # contradicts the source
DECLINED_QUOTES = "Closest passages found (they may not answer the question)"


def _where(file: str, location: str) -> str:
    """"nda.pdf, page 2 › 12.3 Termination", a long heading shortened; an attachment's
    location already names its message: "matter/retainer.eml › lease.pdf, page 1"."""
    file, location = cite(file, location)
    if len(location) > 60:
        location = location[:60].rsplit(" ", 1)[0] + " …"
    return html.escape(f"{file}, {location}" if location else file)


def _cite_links(i: int, text: str, known: set[int]) -> str:
    """``text`` escaped for HTML, each known ``[n]`` a link to its source."""

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f'<a href="cite:{i}:{n}">[{n}]</a>' if n in known else m.group(0)

    return _CITE.sub(link, html.escape(text)).replace("\n", "<br>")


def quotes_html(i: int, ex: Exchange) -> str:
    """The verbatim quotes, each a quotation with a bar in the highlight colour and a
    link (``quote:i:j``) that opens its page with exactly the quote highlighted."""
    if not ex.quotes:
        return ""
    title = "From the documents" if ex.grounded else DECLINED_QUOTES
    out = [f'<p style="margin-top:6px; margin-bottom:2px"><small><b>{title}</b></small></p>']
    for j, q in enumerate(ex.quotes):
        text = " ".join(q.text.split())
        if len(text) > 1200:
            text = text[:1200].rsplit(" ", 1)[0] + " …"
        out.append(
            '<table cellspacing="0" cellpadding="0" style="margin-left:6px; margin-top:4px; margin-bottom:4px">'
            f'<tr><td width="3" bgcolor="{QUOTE_BAR}"></td>'
            f'<td style="padding-left:8px">“{html.escape(text)}”<br>'
            f'<small><a href="quote:{i}:{j}">[{q.n}] {_where(q.file, q.location)}</a>'
            "</small></td></tr></table>")
    return "".join(out)


def answer_html(i: int, ex: Exchange) -> str:
    """The generated answer, each checked sentence shown by its verdict: supported as
    plain text, not found greyed with a note, contradicted struck through in red with
    what the source says. An unchecked, stopped answer is greyed as a whole."""
    known = {s.n for s in ex.sources} | {q.n for q in ex.quotes if ex.grounded}
    if ex.stopped and not ex.checks and ex.quotes:
        return (f'<span style="color:{DOUBT}">{_cite_links(i, ex.answer, known)}</span>'
                f' <small style="color:{DOUBT}">(stopped; not checked against the sources)</small>')
    out = []
    for seg in ex.segments():
        body = _cite_links(i, seg.text, known)
        c = seg.check
        if c is None or c.supported:
            out.append(body)
        elif c.contradicted:
            out.append(f'<span style="color:{WRONG}; text-decoration:line-through">{body}</span>'
                       f' <small style="color:{WRONG}"><b>⚠ {html.escape(c.note())}</b></small>')
        else:
            out.append(f'<span style="color:{DOUBT}"><i>{body}</i></span>'
                       f' <small style="color:{DOUBT}">[{html.escape(c.note())}]</small>')
    return "".join(out)


def verdict_summary(ex: Exchange) -> str:
    """One line under an answer when some sentences are not backed by the sources."""
    wrong = sum(1 for c in ex.doubtful if c.contradicted)
    missing = len(ex.doubtful) - wrong
    parts = []
    if wrong:
        parts.append(f"{wrong} sentence{'s' if wrong != 1 else ''} contradict{'s' if wrong == 1 else ''} the sources")
    if missing:
        parts.append(f"{missing} sentence{'s were' if missing != 1 else ' was'} not found in "
                     + ("them" if wrong else "the sources"))
    if not parts:
        return ""
    return "; ".join(parts) + ". Marked above: rely on the quotes, not on those sentences."


def exchange_html(i: int, ex: Exchange, pending: bool = False) -> str:
    """One question and its answer: the quotes first, then the generated answer, then
    its sources. ``pending`` (still streaming) ends with an empty answer paragraph that
    the tokens are appended to."""
    known = {s.n for s in ex.sources}
    out = [f'<p style="margin-top:14px"><b>{html.escape(ex.question)}</b></p>']
    if ex.grounded or pending:
        out.append(quotes_html(i, ex))
    if pending:
        label = "Answer, being written; each sentence is checked against the sources when it is done"
        if ex.quotes:
            out.append(f'<p style="margin-bottom:0"><small style="color:{DOUBT}">{label}</small></p>')
        out.append(f'<p style="color:{DOUBT}">{html.escape(ex.answer)}</p>')
        return "".join(out)
    answer = answer_html(i, ex)
    if ex.quotes and ex.grounded and answer:
        out.append('<p style="margin-bottom:2px"><small><b>Answer</b></small></p>')
    if ex.error:
        answer += f'<br><span style="color:{WRONG}">{html.escape(ex.error)}</span>'
        if ex.error.startswith(SERVER_FAILED):  # the way on without the server
            answer += ' <a href="docqa:use-local">Use this computer\'s model</a>'
    if ex.stopped:
        answer += " <i>(stopped)</i>"
    out.append(f"<p>{answer}</p>")
    if not ex.grounded:  # the answer declines: its message first, then the closest quotes
        out.append(quotes_html(i, ex))
    summary = verdict_summary(ex)
    if summary:
        out.append(f'<p style="margin-left:8px"><small style="color:{WRONG}">⚠ {html.escape(summary)}</small></p>')
    # Sources the answer cites come first; the other passages it was given follow, so a
    # reader can still check them when a small model forgets to cite.
    cited = [int(n) for n in dict.fromkeys(_CITE.findall(ex.answer)) if int(n) in known]
    first = [s for s in ex.sources if s.n in cited] or ex.sources
    rest = [s for s in ex.sources if s not in first]
    for title, group in (("Sources", first), ("Other passages consulted", rest)):
        if group:
            out.append(f'<p style="margin-left:8px"><small><b>{title}</b><br>')
            out += [_source_line(i, s) for s in group]
            out.append("</small></p>")
    return "".join(out)


def _source_line(i: int, s: SourceRef) -> str:
    quote = " ".join(s.text.split())
    quote = quote if len(quote) <= 160 else quote[:160].rsplit(" ", 1)[0] + " …"
    return (f'<a href="passage:{i}:{s.n}">[{s.n}] {_where(s.file, s.location)}</a>'
            f" — “{html.escape(quote)}”<br>")


def exchange_text(ex: Exchange) -> str:
    """An answer with its quotes, verdicts and citations, as plain text for the clipboard."""
    lines: list[str] = []
    if ex.quotes:
        lines.append("From the documents:" if ex.grounded else f"{DECLINED_QUOTES}:")
        lines += [f"“{' '.join(q.text.split())}” [{q.n}] {q.file}, {q.location}" for q in ex.quotes]
        lines.append("")
        if ex.grounded:
            lines.append("Answer:")
    answer = []
    for seg in ex.segments():
        answer.append(seg.text)
        if seg.doubtful and seg.check is not None:
            answer.append(f" [{'⚠ ' if seg.check.contradicted else ''}{seg.check.note()}]")
    lines += ["".join(answer).strip(), ""]
    if ex.stopped and not ex.checks and ex.quotes:
        lines[-2] += " [stopped; not checked against the sources]"
    lines += [f"[{s.n}] {s.file}, {s.location}: “{' '.join(s.text.split())}”" for s in ex.sources]
    return "\n".join(lines).strip()
