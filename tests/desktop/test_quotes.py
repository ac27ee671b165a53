"""Quotes first, checked sentences, sentence-level highlights (issue 9, desktop side).

The engine is faked where only the UI is under test: a job that reports the quotes,
then tokens, then returns a hand-made :class:`Answer`, exactly as ``Engine.ask`` does."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextCursor

from desktop.chat_render import exchange_html, exchange_text
from desktop.chat_store import (
    CHATS_FILE,
    FORMAT_VERSION,
    LEGACY_CHATS_FILE,
    ChatStore,
    Exchange,
    QuoteRef,
    SourceRef,
)
from desktop.chat_view import ChatPanel
from desktop.export import to_markdown
from desktop.jobs import JobContext, JobRunner
from desktop.viewer import SourceViewer
from rag.store.sealed import Sealer, is_sealed
from rag.types import Answer, Citation, Passage, Quote, SentenceCheck, Support

pytestmark = pytest.mark.gui

# A page with a character outside the BMP before the quote: QTextDocument counts it twice.
PAGE = ("12. Term 𝔸\nThe parties agree as follows. 12.3 Termination. Either party may terminate "
        "this Agreement on thirty (30) days' written notice. Fees already paid are not refunded.\n")
QUOTE = "Either party may terminate this Agreement on thirty (30) days' written notice."
Q_START = PAGE.index(QUOTE)
ANSWER = ("Either party may terminate on 30 days' notice [1]. The notice must be sent by courier. "
          "Notice takes effect after 60 days [1].")


def _answer(grounded: bool = True) -> Answer:
    passage = Passage("contract.txt", 4, 0, len(PAGE), PAGE, 0.9, doc_id=7, heading="12. Term > 12.3 Termination",
                      path="/nowhere/contract.txt")
    quote = Quote(1, passage, Q_START, Q_START + len(QUOTE), QUOTE)
    if not grounded:
        return Answer("The documents do not cover this.", [], "fake", grounded=False, quotes=[quote])
    s1, s2, s3 = (ANSWER.index(t) for t in ("Either", "The notice", "Notice takes"))
    checks = [
        SentenceCheck(s1, s2 - 1, ANSWER[s1:s2 - 1], Support.SUPPORTED, (1,)),
        SentenceCheck(s2, s3 - 1, ANSWER[s2:s3 - 1], Support.UNSUPPORTED, ()),
        SentenceCheck(s3, len(ANSWER), ANSWER[s3:], Support.CONTRADICTED, (1,), "the source says 30 days, not 60"),
    ]
    return Answer(ANSWER, [Citation(1, passage)], "fake", quotes=[quote], checks=checks)


class FakeEngine:
    """Engine.ask's contract: progress carries a list of quotes, then str tokens."""

    def __init__(self, runner: JobRunner, answer: Answer) -> None:
        self.runner = runner
        self.answer = answer

    def ask(self, library: str, question: str, k: int, documents=None):
        def work(ctx: JobContext) -> Answer:
            ctx.progress(list(self.answer.quotes))
            for word in self.answer.text.split(" "):
                ctx.progress(word + " ")
            return self.answer

        return self.runner.submit("Answering", "llm", work)


@pytest.fixture
def panel(qtbot, tmp_path: Path):
    runner = JobRunner()
    engine = FakeEngine(runner, _answer())
    chat = ChatPanel(engine, lambda: 4)  # type: ignore[arg-type]
    qtbot.addWidget(chat)
    chat.resize(700, 700)
    chat.set_library("Contracts", ChatStore(tmp_path, Sealer(os.urandom(32))))
    yield chat
    runner.shutdown()


def _highlighted(view) -> str:
    """The text of a QTextBrowser that carries a highlight background."""
    doc = view.document()
    units = doc.toPlainText().encode("utf-16-le")
    cursor = QTextCursor(doc)
    marked = bytearray()
    for pos in range(doc.characterCount() - 1):
        cursor.setPosition(pos + 1)  # the format of the character before the cursor
        if cursor.charFormat().background().style() != Qt.BrushStyle.NoBrush:
            marked += units[2 * pos:2 * pos + 2]
    return marked.decode("utf-16-le")


def test_quotes_appear_before_the_first_token(qtbot, panel: ChatPanel) -> None:
    seen: list[tuple[bool, int, int]] = []

    def on_progress(piece: object) -> None:
        if isinstance(piece, str) and not seen:
            text = panel.transcript.toPlainText()
            seen.append((QUOTE in text, text.find(QUOTE), text.rfind(piece.strip())))

    with qtbot.waitSignal(panel.answered, timeout=10_000) as answered:
        job = panel.ask("How can the agreement be terminated?")
        assert job is not None
        job.progressed.connect(on_progress)  # after the panel's own slot
    quoted, at, token_at = seen[0]
    assert quoted and at < token_at  # the quote is shown, above the first generated words
    ex: Exchange = answered.args[0]
    assert ex.quotes[0].text == QUOTE and ex.quotes[0].start == Q_START
    assert [c.verdict for c in ex.checks] == ["supported", "unsupported", "contradicted"]
    text = panel.transcript.toPlainText()
    assert text.index("From the documents") < text.index(QUOTE) < text.index("Either party may terminate on 30")


def test_verdicts_are_styled(qtbot, panel: ChatPanel) -> None:
    ex = Exchange("How can it end?")
    ex.set_answer(_answer())
    html = exchange_html(0, ex)
    assert "not found in the sources — check" in html
    assert "line-through" in html and "the source says 30 days, not 60" in html
    # The supported sentence is plain text with its citation linked; the others are not.
    assert 'Either party may terminate on 30 days&#x27; notice <a href="cite:0:1">[1]</a>.' in html
    assert '<i>The notice must be sent by courier.</i>' in html
    panel.store.current().exchanges.append(ex)
    panel.show_transcript()
    shown = panel.transcript.toHtml()
    assert "line-through" in shown and "font-style:italic" in shown
    assert "⚠ contradicts the source: the source says 30 days, not 60" in panel.transcript.toPlainText()
    assert "1 sentence contradicts the sources; 1 sentence was not found in them" in panel.transcript.toPlainText()


def test_declined_answer_shows_closest_quotes_labelled(panel: ChatPanel) -> None:
    ex = Exchange("Who owns the moon?")
    ex.set_answer(_answer(grounded=False))
    panel.store.current().exchanges.append(ex)
    panel.show_transcript()
    text = panel.transcript.toPlainText()
    assert "The documents do not cover this." in text
    assert "Closest passages found (they may not answer the question)" in text and QUOTE in text
    assert "From the documents" not in text


def test_clicking_a_quote_highlights_exactly_the_quote(qtbot, panel: ChatPanel) -> None:
    viewer = SourceViewer(lambda doc, page: PAGE if (doc, page) == (7, 4) else "")
    qtbot.addWidget(viewer)
    panel.citation_clicked.connect(viewer.show_source)
    ex = Exchange("How can it end?")
    ex.set_answer(_answer())
    panel.store.current().exchanges.append(ex)
    panel.show_transcript()
    assert 'href="quote:0:0"' in panel.transcript.toHtml()
    with qtbot.waitSignal(viewer.opened):
        panel.transcript.anchorClicked.emit(QUrl("quote:0:0"))
    assert viewer.stack.currentWidget() is viewer.text_view
    assert _highlighted(viewer.text_view) == QUOTE  # not the whole passage
    # [1] in the answer opens the same quote; the sources list opens the whole passage.
    panel.transcript.anchorClicked.emit(QUrl("cite:0:1"))
    assert _highlighted(viewer.text_view) == QUOTE
    panel.transcript.anchorClicked.emit(QUrl("passage:0:1"))
    whole = _highlighted(viewer.text_view)
    assert whole == PAGE  # the passage is the whole page here


def test_quote_in_a_pdf_is_located_not_the_passage(qtbot, sample_pdf: Path) -> None:
    viewer = SourceViewer(lambda _doc, _page: "")
    qtbot.addWidget(viewer)
    viewer.resize(700, 900)
    viewer.show()
    qtbot.waitExposed(viewer)
    sentence = ("3.2 Either party may terminate this Agreement for convenience by giving\n"
                "thirty (30) days’ prior written notice to the other party.")
    quote = QuoteRef(1, sample_pdf.name, 2, 100, 100 + len(sentence), sentence, 1, str(sample_pdf))
    viewer.show_source(quote.source())
    assert viewer.current_page == 2
    assert viewer.search_model.searchString() == " ".join(sentence.split())
    assert len(viewer.highlights) == 2  # two lines of the page, nothing more
    assert "not located" not in viewer.title.text()


def test_copy_and_markdown_carry_quotes_and_marks() -> None:
    ex = Exchange("How can it end?")
    ex.set_answer(_answer())
    text = exchange_text(ex)
    assert text.startswith("From the documents:\n“" + QUOTE)
    assert "The notice must be sent by courier. [not found in the sources — check]" in text
    assert "[⚠ contradicts the source: the source says 30 days, not 60]" in text
    md = to_markdown([ex], "Matter")
    assert f"> “{QUOTE}”" in md and "> — contract.txt, page 4 › 12.3 Termination[^1]" in md
    assert "*The notice must be sent by courier.* **[not found in the sources — check]**" in md
    assert "~~Notice takes effect after 60 days.~~[^1] **[⚠ contradicts the source: the source says 30 days, not 60]**" in md


def test_stopped_answer_is_not_shown_as_checked_fact() -> None:
    ex = Exchange("How can it end?")
    ex.set_quotes(_answer().quotes)
    ex.set_answer(Answer("Either party may", [], "fake", cancelled=True))
    assert ex.stopped and ex.quotes and not ex.checks  # the streamed quotes are kept
    html = exchange_html(0, ex)
    assert "(stopped; not checked against the sources)" in html and "Either party may</span>" in html
    assert "[stopped; not checked against the sources]" in exchange_text(ex)


def test_pdf_export_html_marks_sentences_and_quotes() -> None:
    from desktop.export import to_html

    ex = Exchange("How can it end?")
    ex.set_answer(_answer())
    out = to_html([ex], "Matter")
    assert "<blockquote>“Either party may terminate this Agreement" in out
    assert "line-through" in out and "font-style:italic" in out
    assert "[not found in the sources — check]" in out


def test_docx_marks_doubtful_sentences(tmp_path: Path) -> None:
    from docx import Document

    from desktop.export import export

    ex = Exchange("How can it end?")
    ex.set_answer(_answer())
    out = tmp_path / "a.docx"
    export([ex], out, "Matter")
    doc = Document(str(out))
    assert any(p.style.name == "Quote" and QUOTE in p.text for p in doc.paragraphs)
    runs = [r for p in doc.paragraphs for r in p.runs]
    assert any(r.font.strike and "60 days" in r.text for r in runs)
    assert any(r.italic and "courier" in r.text for r in runs)


def test_old_chat_files_load_and_new_ones_round_trip(tmp_path: Path) -> None:
    old = {"version": 1, "chats": [{"id": "abc", "title": "Old", "created_at": 1.0, "exchanges": [{
        "question": "Q?", "answer": "A [1].", "backend": "cpu", "stopped": False, "error": "", "asked_at": 2.0,
        "sources": [{"n": 1, "file": "a.pdf", "page": 2, "start": 0, "end": 5, "text": "hello",
                     "doc_id": 3, "path": "/a.pdf", "heading": ""}]}]}]}
    # A plaintext history from before encryption is sealed, and the plaintext removed.
    (tmp_path / LEGACY_CHATS_FILE).write_text(json.dumps(old), encoding="utf-8")
    sealer = Sealer(os.urandom(32))
    store = ChatStore(tmp_path, sealer)
    assert not (tmp_path / LEGACY_CHATS_FILE).exists() and is_sealed(tmp_path / CHATS_FILE)
    assert b"hello" not in (tmp_path / CHATS_FILE).read_bytes()
    ex = store.current().exchanges[0]
    assert ex.answer == "A [1]." and ex.sources[0].page == 2 and ex.quotes == [] and ex.checks == []
    assert "A " in exchange_html(0, ex) and 'href="cite:0:1"' in exchange_html(0, ex)
    new = Exchange("How can it end?")
    new.set_answer(_answer())
    store.current().exchanges.append(new)
    store.save()
    data = json.loads(sealer.read(tmp_path / CHATS_FILE))
    assert data["version"] == FORMAT_VERSION == 2
    again = ChatStore(tmp_path, sealer).current().exchanges
    assert again == store.current().exchanges
    assert again[1].quotes[0].source() == SourceRef(1, "contract.txt", 4, Q_START, Q_START + len(QUOTE), QUOTE, 7,
                                                    "/nowhere/contract.txt", "12. Term > 12.3 Termination")
    # A file from a newer version (unknown keys) still loads.
    data["chats"][0]["exchanges"][1]["quotes"][0]["colour"] = "amber"
    data["chats"][0]["exchanges"][1]["future"] = True
    sealer.write(tmp_path / CHATS_FILE, json.dumps(data).encode())
    assert ChatStore(tmp_path, sealer).current().exchanges[1].quotes[0].text == QUOTE
    # Sealed with another library's key: refused (kept aside), never read as garbage.
    assert ChatStore(tmp_path, Sealer(os.urandom(32))).chats == []


def test_real_engine_sends_quotes_before_tokens(qtbot, window, sample_pdf: Path) -> None:
    """With the real engine and the tiny model: the quotes come first, as a list, and are
    on screen before the first generated piece; the stored answer keeps them and its checks."""
    from tests.desktop.helpers import drop_and_wait

    drop_and_wait(qtbot, window, [sample_pdf])
    order: list[str] = []
    shown_first: list[bool] = []
    quotes: list[Quote] = []

    def on_progress(piece: object) -> None:
        if isinstance(piece, list):
            order.append("quotes")
            quotes.extend(piece)
        elif not shown_first:
            order.append("token")
            text = " ".join(window.chat.transcript.toPlainText().split())
            shown_first.append(all(" ".join(q.text.split()) in text for q in quotes))

    with qtbot.waitSignal(window.chat.answered, timeout=60_000) as answered:
        job = window.chat.ask("How can either party terminate the agreement?")
        assert job is not None
        job.progressed.connect(on_progress)
    ex: Exchange = answered.args[0]
    assert not ex.error
    assert order[0] == "quotes"
    assert quotes, "the engine quoted nothing for a question the sample answers"
    if "token" in order:
        assert shown_first == [True]
    assert [q.text for q in ex.quotes] == [q.text for q in quotes]
    # Whatever the tiny model wrote, no sentence of it passes as fact unchecked.
    assert ex.checks or not ex.grounded
    # Clicking the first quote opens its page with the quote located on it.
    with qtbot.waitSignal(window.viewer.opened):
        window.chat.transcript.anchorClicked.emit(QUrl("quote:0:0"))
    assert window.viewer.current_page == quotes[0].passage.page
    assert window.viewer.highlights and "not located" not in window.viewer.title.text()
