"""The chat: ask about the selected library, watch the answer stream in, follow citations."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.chat_store import Chat, ChatStore, Exchange, SourceRef
from desktop.engine import Engine
from desktop.jobs import Job
from rag.types import Answer

_CITE = re.compile(r"\[(\d{1,2})\]")


def exchange_html(i: int, ex: Exchange) -> str:
    known = {s.n for s in ex.sources}

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f'<a href="cite:{i}:{n}">[{n}]</a>' if n in known else m.group(0)

    answer = _CITE.sub(link, html.escape(ex.answer)).replace("\n", "<br>")
    if ex.error:
        answer += f'<br><span style="color:#d9534f">{html.escape(ex.error)}</span>'
    if ex.stopped:
        answer += " <i>(stopped)</i>"
    out = [f'<p style="margin-top:14px"><b>{html.escape(ex.question)}</b></p><p>{answer}</p>']
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
    return (f'<a href="cite:{i}:{s.n}">[{s.n}] {html.escape(s.file)}, page {s.page}</a>'
            f" — “{html.escape(quote)}”<br>")


def exchange_text(ex: Exchange) -> str:
    """An answer with its citations, as plain text for the clipboard."""
    lines = [ex.answer.strip(), ""]
    lines += [f"[{s.n}] {s.file}, page {s.page}: “{' '.join(s.text.split())}”" for s in ex.sources]
    return "\n".join(lines).strip()


class ChatPanel(QWidget):
    citation_clicked = Signal(object)  # SourceRef
    answered = Signal(object)  # Exchange, once an answer is complete (or stopped, or failed)
    busy_changed = Signal(bool)
    export_requested = Signal(str)  # "chat" or "answer"

    def __init__(self, engine: Engine, passages: Callable[[], int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._passages = passages
        self.library = ""
        self.store: ChatStore | None = None
        self.job: Job | None = None
        self._pending: Exchange | None = None

        self.transcript = QTextBrowser()
        self.transcript.setOpenLinks(False)
        self.transcript.setAccessibleName("Conversation")
        self.transcript.anchorClicked.connect(self._on_anchor)
        self.question = QPlainTextEdit()
        self.question.setPlaceholderText("Ask a question about this library's documents (Ctrl+Enter to ask)")
        self.question.setAccessibleName("Question")
        self.question.setMaximumHeight(72)
        self.question.installEventFilter(self)
        self.ask_btn = QPushButton("Ask")
        self.ask_btn.setToolTip("Ask (Ctrl+Enter)")
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("Stop the answer (Esc)")
        self.new_btn = QPushButton("New chat")
        self.new_btn.setToolTip("Start a new chat (Ctrl+N)")
        self.copy_btn = QPushButton("Copy answer")
        self.export_btn = QPushButton("Export chat…")
        self.export_answer_btn = QPushButton("Export answer…")
        for b, name in ((self.ask_btn, "Ask"), (self.stop_btn, "Stop answering"), (self.new_btn, "New chat"),
                        (self.copy_btn, "Copy the last answer with its sources"),
                        (self.export_btn, "Export the chat"), (self.export_answer_btn, "Export the last answer")):
            b.setAccessibleName(name)
        self.ask_btn.clicked.connect(self.ask)
        self.stop_btn.clicked.connect(self.stop)
        self.new_btn.clicked.connect(self.new_chat)
        self.copy_btn.clicked.connect(self.copy_last_answer)
        self.export_btn.clicked.connect(lambda: self.export_requested.emit("chat"))
        self.export_answer_btn.clicked.connect(lambda: self.export_requested.emit("answer"))
        self.status = QLabel()

        self.history = QComboBox()
        self.history.setAccessibleName("Earlier chats")
        self.history.setToolTip("Earlier chats in this library")
        self.history.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.history.setMinimumContentsLength(16)
        self.history.activated.connect(self._on_history_chosen)
        tools = QHBoxLayout()
        tools.addWidget(self.history, 1)
        for b in (self.new_btn, self.copy_btn, self.export_btn, self.export_answer_btn):
            tools.addWidget(b)
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.ask_btn)
        buttons.addWidget(self.stop_btn)
        ask_row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.transcript, 1)
        layout.addWidget(self.status)
        layout.addLayout(ask_row)
        self._update_buttons()

    # -- state -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None

    def chat(self) -> Chat | None:
        return self.store.current() if self.store else None

    def set_library(self, name: str, store: ChatStore | None) -> None:
        self.stop()
        self.library = name
        self.store = store
        self.show_transcript()

    def _update_buttons(self) -> None:
        chat = self.chat()
        has_answer = bool(chat and chat.exchanges)
        self.ask_btn.setEnabled(bool(self.store) and not self.busy)
        self.history.setEnabled(bool(self.store) and not self.busy)
        self.stop_btn.setEnabled(self.busy)
        self.new_btn.setEnabled(bool(self.store) and not self.busy)
        for b in (self.copy_btn, self.export_btn, self.export_answer_btn):
            b.setEnabled(has_answer and not self.busy)

    def show_transcript(self) -> None:
        chat = self.chat()
        if chat is None:
            body = "<p><i>Create or choose a library on the left.</i></p>"
        elif not chat.exchanges:
            body = ("<p><i>Ask a question below. Answers come only from this library's documents, "
                    "with numbered citations you can click.</i></p>")
        else:
            body = "".join(exchange_html(i, ex) for i, ex in enumerate(chat.exchanges))
        self.transcript.setHtml(body)
        self.transcript.moveCursor(QTextCursor.MoveOperation.End)
        self.transcript.ensureCursorVisible()
        self._fill_history()
        self._update_buttons()

    def _fill_history(self) -> None:
        self.history.blockSignals(True)
        self.history.clear()
        for chat in reversed(self.store.chats if self.store else []):  # the current one first
            when = time.strftime("%d %b %H:%M", time.localtime(chat.created_at))
            self.history.addItem(f"{chat.title} · {when}", chat.id)
        self.history.setCurrentIndex(0)
        self.history.blockSignals(False)

    def _on_history_chosen(self, index: int) -> None:
        chat_id = self.history.itemData(index)
        if self.store is None or self.busy or not chat_id or chat_id == self.store.current().id:
            return
        self.store.select(chat_id)
        self.store.save()
        self.show_transcript()

    # -- asking -----------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.question and event.type() == QEvent.Type.KeyPress:
            key = QKeyEvent(event)  # type: ignore[call-overload]
            if key.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                key.modifiers() & Qt.KeyboardModifier.ControlModifier
            ):
                self.ask()
                return True
        return super().eventFilter(obj, event)

    def ask(self, text: str | None = None) -> Job | None:
        question = (text if isinstance(text, str) else self.question.toPlainText()).strip()
        chat = self.chat()
        if not question or chat is None or self.busy:
            return None
        self.question.clear()
        ex = Exchange(question)
        chat.exchanges.append(ex)
        if chat.title == "New chat":
            chat.title = question[:60]
        self._pending = ex
        self.show_transcript()
        self.job = self.engine.ask(self.library, question, self._passages())
        self.job.progressed.connect(self._on_token)
        self.job.finished.connect(self._on_answer)
        self.job.cancelled.connect(self._on_cancelled)
        self.job.failed.connect(self._on_failed)
        self.status.setText("Answering… (Esc to stop)")
        self._update_buttons()
        self.busy_changed.emit(True)
        return self.job

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_token(self, piece: object) -> None:
        if self._pending is None:
            return
        self._pending.answer += str(piece)
        cursor = QTextCursor(self.transcript.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(str(piece))
        self.transcript.verticalScrollBar().setValue(self.transcript.verticalScrollBar().maximum())

    def _on_answer(self, ans: Answer) -> None:
        if self._pending is not None:
            self._pending.set_answer(ans)
        self._done("Stopped." if ans.cancelled else "")

    def _on_cancelled(self) -> None:
        job = self.job
        if self._pending is not None:
            if job is not None and isinstance(job.result, Answer):
                self._pending.set_answer(job.result)
            self._pending.stopped = True
        self._done("Stopped.")

    def _on_failed(self, reason: str) -> None:
        if self._pending is not None:
            self._pending.error = f"Could not answer: {reason}"
        self._done("")

    def _done(self, status: str) -> None:
        ex = self._pending
        self.job = None
        self._pending = None
        if self.store is not None:
            self.store.save()
        self.status.setText(status)
        self.show_transcript()
        self.busy_changed.emit(False)
        if ex is not None:
            self.answered.emit(ex)

    # -- other actions ----------------------------------------------------------------------
    def new_chat(self) -> None:
        if self.store is None or self.busy:
            return
        self.store.new_chat()
        self.store.save()
        self.show_transcript()

    def last_exchange(self) -> Exchange | None:
        chat = self.chat()
        return chat.exchanges[-1] if chat and chat.exchanges else None

    def copy_last_answer(self) -> None:
        ex = self.last_exchange()
        if ex is not None:
            QGuiApplication.clipboard().setText(exchange_text(ex))
            self.status.setText("Answer copied with its sources.")

    def source(self, exchange: int, n: int) -> SourceRef | None:
        chat = self.chat()
        if chat is None or not (0 <= exchange < len(chat.exchanges)):
            return None
        return next((s for s in chat.exchanges[exchange].sources if s.n == n), None)

    def _on_anchor(self, url: QUrl) -> None:
        parts = url.toString().split(":")
        if len(parts) == 3 and parts[0] == "cite":
            src = self.source(int(parts[1]), int(parts[2]))
            if src is not None:
                self.citation_clicked.emit(src)
