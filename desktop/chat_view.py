"""The chat: ask about the selected library, watch the answer stream in, follow citations."""

from __future__ import annotations

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

from desktop.chat_render import exchange_html, exchange_text
from desktop.chat_store import Chat, ChatStore, Exchange, SourceRef
from desktop.engine import SERVER_FAILED, Engine
from desktop.jobs import Job
from rag.types import Answer, Quote


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
        self.scope: list[int] = []  # document ids the next questions are asked about; [] every one

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
        self.scope_label = QLabel()
        self.scope_label.setWordWrap(True)
        self.scope_label.setAccessibleName("Documents asked about")
        self.scope_clear = QPushButton("Ask about every document")
        self.scope_clear.setAccessibleName("Ask about every document again")
        self.scope_clear.clicked.connect(lambda: self.set_scope([], []))
        scope_row = QHBoxLayout()
        scope_row.addWidget(self.scope_label, 1)
        scope_row.addWidget(self.scope_clear)

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
        layout.addLayout(scope_row)
        layout.addLayout(ask_row)
        self.set_scope([], [])
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
        self.set_scope([], [])
        self.show_transcript()

    def set_scope(self, ids: list[int], names: list[str]) -> None:
        """Ask the next questions about these documents only (retrieval stays inside them)."""
        self.scope = list(ids)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        self.scope_label.setText(f"Asking about {len(ids)} chosen document{'s' if len(ids) != 1 else ''}: {shown}"
                                 if ids else "")
        self.scope_label.setToolTip("\n".join(names))
        for w in (self.scope_label, self.scope_clear):
            w.setVisible(bool(ids))

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
            body = "".join(exchange_html(i, ex, pending=ex is self._pending)
                           for i, ex in enumerate(chat.exchanges))
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
        self.job = self.engine.ask(self.library, question, self._passages(), self.scope or None)
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
        """A job's progress: the list of quotes (once, before generation), then tokens."""
        if self._pending is None:
            return
        if isinstance(piece, list):
            self._pending.set_quotes([q for q in piece if isinstance(q, Quote)])
            self.show_transcript()  # the quotes appear above, the tokens follow below
            return
        piece = str(piece) if self._pending.answer else str(piece).lstrip()
        self._pending.answer += piece
        cursor = QTextCursor(self.transcript.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
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
            self._pending.error = reason if reason.startswith(SERVER_FAILED) else f"Could not answer: {reason}"
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

    def _exchange(self, index: int) -> Exchange | None:
        chat = self.chat()
        if chat is None or not (0 <= index < len(chat.exchanges)):
            return None
        return chat.exchanges[index]

    def source(self, exchange: int, n: int) -> SourceRef | None:
        """What ``[n]`` of an answer opens: its quote's sentences when the passage was
        quoted (the exact clause, highlighted), else the whole passage."""
        ex = self._exchange(exchange)
        if ex is None:
            return None
        quote = ex.quote_for(n) if ex.grounded else None
        if quote is not None:
            return quote.source()
        return next((s for s in ex.sources if s.n == n), None)

    def quote_source(self, exchange: int, j: int) -> SourceRef | None:
        ex = self._exchange(exchange)
        if ex is None or not (0 <= j < len(ex.quotes)):
            return None
        return ex.quotes[j].source()

    def _on_anchor(self, url: QUrl) -> None:
        if url.toString() == "docqa:use-local":
            self.engine.use_this_computer()
            self.status.setText("Answers are written on this computer now (Settings › Model to change).")
            return
        parts = url.toString().split(":")
        if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
            return
        src = None
        if parts[0] == "cite":  # an [n] in the answer
            src = self.source(int(parts[1]), int(parts[2]))
        elif parts[0] == "passage":  # a line of the sources list: the whole passage
            ex = self._exchange(int(parts[1]))
            src = next((s for s in ex.sources if s.n == int(parts[2])), None) if ex else None
        elif parts[0] == "quote":
            src = self.quote_source(int(parts[1]), int(parts[2]))
        if src is not None:
            self.citation_clicked.emit(src)
