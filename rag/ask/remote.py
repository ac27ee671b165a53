"""Answers written by a server in the organisation: an OpenAI-compatible chat-completions
endpoint (llama.cpp's llama-server, llama-cpp-python's server, vLLM), streamed.

The server only writes the sentences. Retrieval, the quotes, the prompt, the sentence
checker and declining stay on this computer (:func:`rag.ask.answer.answer`, unchanged):
what goes over the wire is the system prompt, the question and the quotes and passages
picked for it, never a whole document, a file path or a library key.

Prompt sizing needs token counts and a reading speed. Counting each source on the
server would cost a round-trip per passage, so :meth:`RemoteGenerator.count_tokens`
estimates from characters, at a ratio measured once at :meth:`~RemoteGenerator.warm_up`
from the server's own count of a calibration prompt (which also times its reading speed).
"""

from __future__ import annotations

import math
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from rag.ask.generation import _CALIBRATION_TEXT, REPEAT_PENALTY, STOP, PromptStats
from rag.ask.remote_http import (
    RemoteError,
    check_status,
    choose_model,
    explain,
    list_models,
    make_client,
    props_context,
    sse_data,
    with_retries,
)
from rag.ask.server_config import DEFAULT_CONTEXT, ServerConfig, is_loopback
from rag.cancel import CancelToken
from rag.privacy import egress

# Characters per token before the server has counted one prompt: English legal and
# clinical text runs 3.8-4.5 with Llama 3 and Gemma tokenizers; lower means more tokens
# estimated, so a prompt errs on the side of fitting.
CHARS_PER_TOKEN = 3.5
# Estimates are inflated by this much: an underestimate would overflow the server's
# context, and the server would refuse the whole request.
MARGIN = 1.1
CALIBRATION_CHARS = 2000  # about 500 tokens, like the in-process calibration


class RemoteGenerator:
    """Cheap to construct; :meth:`warm_up` reaches the server, checks the key and the
    model, and measures it. One request at a time (like a llama context)."""

    def __init__(self, config: ServerConfig, api_key: str | None = None, *, calibrate: bool = True) -> None:
        self.config = config.checked()
        self._api_key = api_key
        self.calibrate = calibrate
        self.server = self.config.host
        self.model = self.config.model
        self.context_size = self.config.context_size or DEFAULT_CONTEXT
        self.prompt_rate: float | None = None
        self.chars_per_token = CHARS_PER_TOKEN
        self.last_prompt: PromptStats | None = None
        self._rate_followed = False
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._hook: Callable[[int], None] | None = None
        self.backend = self._backend()  # "answers: HOST · MODEL", as the status bar shows

    def __repr__(self) -> str:  # never the key
        return f"RemoteGenerator({self.config.url!r}, model={self.model!r})"

    @property
    def loaded(self) -> bool:
        return self._client is not None

    def _backend(self) -> str:
        plain = " · unencrypted" if not self.config.encrypted and not is_loopback(self.server) else ""
        return f"answers: {self.server} · {self.model or 'server model'}{plain}"

    def warm_up(self) -> None:
        if self._client is not None:
            return
        client = make_client(self.config, self._api_key)
        try:
            ids, sizes = list_models(client, self.config)
            self.model = choose_model(ids, self.config.model, self.server)
            self.backend = self._backend()
            if not self.config.context_size:
                self.context_size = sizes.get(self.model) or props_context(client) or DEFAULT_CONTEXT
            if self.calibrate:
                self._calibrate(client)
        except BaseException:
            client.close()
            raise
        self._client = client

    def _calibrate(self, client: httpx.Client) -> None:
        """The server's count of a known prompt gives characters per token; its time to
        answer one token gives the reading speed (round-trip included, as users wait it).
        A random start keeps the server's prompt cache from answering for it."""
        text = secrets.token_hex(8) + " " + (_CALIBRATION_TEXT * 20)[:CALIBRATION_CHARS]
        body = self._body("Repeat the first word.", text, 1, stream=False)

        def post() -> httpx.Response:
            resp = client.post("/v1/chat/completions", json=body)
            check_status(resp, self.config, self.model)
            return resp

        started = time.perf_counter()
        resp = with_retries(post, self.config)
        seconds = time.perf_counter() - started
        try:
            tokens = int(resp.json()["usage"]["prompt_tokens"])
        except (ValueError, KeyError, TypeError):
            return  # a server that does not count: keep the estimates
        if tokens > 32:
            self.chars_per_token = len(text) / tokens
            self.prompt_rate = tokens / seconds if seconds > 0 else None

    def close(self) -> None:
        """Close the connection; the guard stops admitting the server (answers move back
        to this computer, or to another server that admits itself when it warms up)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
                egress.disallow(self.server)

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / self.chars_per_token * MARGIN)

    @contextmanager
    def reporting(self, hook: Callable[[int], None]) -> Iterator[None]:
        """Have ``hook`` told, before each request leaves, how many characters it carries
        (the library's audit log records it)."""
        self._hook = hook
        try:
            yield
        finally:
            self._hook = None

    def _body(self, system: str, user: str, max_tokens: int, *, stream: bool) -> dict[str, Any]:
        # The sampling of in-process answers; repeat_penalty is llama.cpp's name (vLLM
        # ignores fields it does not know).
        return {"model": self.model, "messages": [{"role": "system", "content": system},
                                                  {"role": "user", "content": user}],
                "max_tokens": max_tokens, "temperature": 0.1, "repeat_penalty": REPEAT_PENALTY,
                "stop": list(STOP), "stream": stream}

    def stream(self, system: str, user: str, max_tokens: int, cancel: CancelToken) -> Iterator[str]:
        """Yield text pieces as the server writes them; ``cancel`` ends the request at
        once, even while the server is still reading the prompt."""
        self.warm_up()
        assert self._client is not None
        client = self._client
        with self._lock:
            body = self._body(system, user, max_tokens, stream=True)
            if self._hook is not None:
                self._hook(len(system) + len(user))
            self.last_prompt = None
            started = time.perf_counter()

            def send() -> httpx.Response:
                req = client.build_request("POST", "/v1/chat/completions", json=body,
                                           headers={"Accept": "text/event-stream"})
                resp = client.send(req, stream=True)
                check_status(resp, self.config, self.model)
                return resp

            try:
                resp = with_retries(send, self.config, cancel)
            except RemoteError:
                if cancel.is_set:
                    return
                raise
            done = threading.Event()
            watcher = threading.Thread(target=_cut_on_cancel, args=(resp, cancel, done), daemon=True)
            watcher.start()
            try:
                for event in sse_data(resp.iter_lines()):
                    if cancel.is_set:
                        break
                    if isinstance(event.get("error"), dict | str):
                        err = event["error"]
                        raise RemoteError(f"the server {self.server} failed: "
                                          f"{err.get('message', err) if isinstance(err, dict) else err}",
                                          "server")
                    piece = _piece(event)
                    if piece:
                        if self.last_prompt is None:
                            self._first_piece(user, system, time.perf_counter() - started)
                        yield piece
            except httpx.HTTPError as err:
                if not cancel.is_set:
                    raise explain(err, self.config) from None
            finally:
                done.set()
                resp.close()

    def _first_piece(self, user: str, system: str, seconds: float) -> None:
        tokens = self.count_tokens(system) + self.count_tokens(user)
        self.last_prompt = PromptStats(tokens, tokens, seconds, seconds)
        if tokens >= 128 and seconds > 0:
            # Followed as in-process (rag/ask/generation.py): the server may be busy now.
            rate = tokens / seconds
            first, self._rate_followed = not self._rate_followed, True
            self.prompt_rate = rate if first or self.prompt_rate is None else 0.5 * self.prompt_rate + 0.5 * rate


def _piece(event: dict[str, Any]) -> str:
    try:
        choice = event["choices"][0]
    except (KeyError, IndexError, TypeError):
        return ""
    delta = choice.get("delta") or {}
    return str(delta.get("content") or choice.get("text") or "")


def _cut_on_cancel(resp: httpx.Response, cancel: CancelToken, done: threading.Event) -> None:
    """Shut the connection's socket when ``cancel`` is set: a read blocked on a server
    still reading its prompt returns at once, and the server sees the client gone."""
    while not done.is_set():
        if cancel.wait(0.05):
            stream = resp.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return
