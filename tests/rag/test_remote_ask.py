"""Asking a library with answers from a server: the audit log, what goes over the wire,
and the command line (docqa server, ask --server, failures in one line with the quotes
still shown), against llama-cpp-python's real server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rag.ask.remote import RemoteGenerator
from rag.ask.server_config import ServerConfig
from tests.helpers.openai_server import Server, free_port, start_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
KEY = "department-key-" + "3" * 20
QUESTION = "How soon should the cardiology review be booked?"
LETTER = ("Referral for cardiology review.\n\nPlease book a cardiology review within six weeks; the "
          "echocardiogram showed mild mitral regurgitation.\n\n")
FILLER = "".join(f"Clause {i}. The parties shall keep record {i} for audit purposes.\n\n" for i in range(400))


@pytest.fixture(scope="module")
def server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tiny_gguf, tmp_path_factory.mktemp("srv") / "server.log", api_key=KEY, ctx=4096)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("docs")
    (d / "referral.txt").write_text(LETTER + FILLER, encoding="utf-8")
    return d / "referral.txt"


def test_an_answer_from_the_server_is_checked_and_audited(library: Any, docs: Path, server: Server) -> None:
    library.ingest([docs])
    gen = RemoteGenerator(ServerConfig(url=server.url, enabled=True), KEY)
    quotes: list[Any] = []
    ans = library.ask(QUESTION, gen, on_quotes=quotes.extend, max_tokens=24)
    assert ans.backend == "answers: 127.0.0.1 · tiny-llama"
    assert quotes and "six weeks" in quotes[0].text  # picked here, before the server wrote
    assert ans.grounded and ans.citations
    library.set_logs_question_text(True)
    library.ask(QUESTION, gen, max_tokens=8)
    entries = [e for e in library.audit.verify().entries if e.event == "remote generation"]
    assert len(entries) == 2
    first, second = entries
    assert first.data["server"] == "127.0.0.1" and first.data["model"] == "tiny-llama"
    assert 200 < first.data["chars"] < 20_000 and "text" not in first.data
    assert library.audit.open_text(second.data["text"]) == QUESTION  # only once opted in
    assert library.audit.verify().ok
    gen.close()


class _Capture(BaseHTTPRequestHandler):
    """A loopback server that records the bytes docqa sends and answers like a tiny
    OpenAI-compatible server (what is sent is the point, not the answer)."""

    seen: list[tuple[str, dict[str, str], bytes]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.seen.append(("GET " + self.path, dict(self.headers), b""))
        self._reply(b'{"object": "list", "data": [{"id": "capture"}]}', "application/json")

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(("POST " + self.path, dict(self.headers), body))
        chunk = {"choices": [{"delta": {"content": "Within six weeks [1]."}}]}
        self._reply(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode(), "text/event-stream")

    def _reply(self, data: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_only_the_question_and_its_quotes_go_over_the_wire(library: Any, docs: Path) -> None:
    library.ingest([docs])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        gen = RemoteGenerator(ServerConfig(url=f"http://127.0.0.1:{httpd.server_port}", enabled=True), KEY,
                              calibrate=False)
        ans = library.ask(QUESTION, gen)
    finally:
        httpd.shutdown()
    assert ans.backend == "answers: 127.0.0.1 · capture"
    posts = [(h, b) for what, h, b in _Capture.seen if what == "POST /v1/chat/completions"]
    assert len(posts) == 1
    headers, raw = posts[0]
    body = json.loads(raw)
    assert set(body) == {"model", "messages", "max_tokens", "temperature", "repeat_penalty", "stop", "stream"}
    user = body["messages"][1]["content"]
    assert QUESTION in user and "six weeks" in user
    text = raw.decode()
    assert str(docs.parent) not in text and str(library.root) not in text  # no paths
    assert len(raw) < len(LETTER + FILLER) / 2  # passages, never the whole document
    assert headers["Authorization"] == f"Bearer {KEY}"  # the server's key, in its header only
    assert KEY not in text


# -- the command line ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, docs: Path) -> Path:
    """A data folder with a library holding the letter (made by the CLI: no keychain)."""
    h = tmp_path_factory.mktemp("home")
    r = _docqa(h, "ingest", str(docs))
    assert r.returncode == 0, r.stderr
    return h


def _docqa(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCQA_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO, env=env, input=stdin)


def test_server_set_show_key_test_and_ask(home: Path, server: Server, tiny_gguf: Path) -> None:
    r = _docqa(home, "server", "set", "http://gpu-server.firm.local:8000")
    assert r.returncode == 1 and "unencrypted" in r.stderr and "Traceback" not in r.stderr
    assert _docqa(home, "server", "set", server.url + "/v1").returncode == 0
    assert _docqa(home, "server", "key", stdin=KEY + "\n").returncode == 0
    kept = (home / "server.json").read_text() + (home / "server-key.json").read_text()
    assert KEY not in kept  # wrapped under the passphrase: this child has no keychain
    shown = json.loads(_docqa(home, "server", "show", "--json").stdout)
    assert shown["url"] == server.url and shown["api_key_kept"] is True and "key" not in json.dumps(
        {k: v for k, v in shown.items() if k != "api_key_kept"})
    r = _docqa(home, "server", "test")
    assert r.returncode == 0 and "reached in" in r.stdout and "model tiny-llama" in r.stdout, r.stderr
    r = _docqa(home, "ask", QUESTION, "--max-tokens", "16")
    assert r.returncode == 0, r.stderr
    assert "From the documents:" in r.stdout and "six weeks" in r.stdout
    assert "(backend: answers: 127.0.0.1 · tiny-llama)" in r.stderr
    r = _docqa(home, "privacy")
    assert f"127.0.0.1:{server.port}" in r.stdout and "Allowed server" in r.stdout
    r = _docqa(home, "ask", QUESTION, "--local", "--model", str(tiny_gguf), "--max-tokens", "8")
    assert r.returncode == 0 and "answers:" not in r.stderr, r.stderr
    assert _docqa(home, "server", "set", "off").returncode == 0
    assert "this computer" in _docqa(home, "privacy").stdout


def test_a_wrong_key_keeps_the_quotes_and_says_why(home: Path, server: Server) -> None:
    assert _docqa(home, "server", "set", server.url).returncode == 0
    assert _docqa(home, "server", "key", stdin="not-the-key\n").returncode == 0
    r = _docqa(home, "ask", QUESTION)
    assert r.returncode == 1
    assert "From the documents:" in r.stdout and "six weeks" in r.stdout  # the evidence stays
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused the API key (401)" in lines[0] and "docqa ask --local" in lines[0]
    assert "not-the-key" not in r.stderr + r.stdout
    _docqa(home, "server", "set", "off")


def test_a_server_that_is_down_keeps_the_quotes(home: Path) -> None:
    r = _docqa(home, "ask", QUESTION, "--server", f"http://127.0.0.1:{free_port()}", "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    out = json.loads(r.stdout)
    assert out["answer"] is None and "not reachable" in out["error"] and "six weeks" in out["quotes"][0]["text"]
