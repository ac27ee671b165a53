"""RemoteGenerator against a real OpenAI-compatible server (llama-cpp-python's, with the tiny
GGUF) started on loopback by this module: streaming, cancelling, a wrong key, a missing
model, a server that is down or killed mid-answer, TLS with a test CA, and the egress
guard admitting that server and nothing else."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.ask import remote_http
from rag.ask.remote import RemoteGenerator
from rag.ask.remote_http import RemoteError, probe
from rag.ask.server_config import ServerConfig
from rag.cancel import CancelToken
from rag.privacy import egress
from tests.helpers.openai_server import Server, free_port, start_server

pytestmark = pytest.mark.slow

KEY = "right-key-" + "7" * 16
SYSTEM = "Answer the question using only the numbered sources."
USER = "Sources:\n\n[1] contract.pdf, page 1\nThe term is one year.\n\nQuestion: What is the term?"


@pytest.fixture(scope="module")
def server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tiny_gguf, tmp_path_factory.mktemp("srv") / "server.log", api_key=KEY, ctx=4096)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tls(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """The server behind TLS with a certificate for "localhost" from a test CA."""
    import trustme

    d = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
    ctx = __import__("ssl").create_default_context(cafile=str(d / "ca.pem"))
    s = start_server(tiny_gguf, d / "server.log", certfile=d / "cert.pem", keyfile=d / "key.pem", ca=ctx)
    yield s, d / "ca.pem"
    s.stop()


@pytest.fixture(autouse=True)
def _guard_back() -> Iterator[None]:
    yield
    egress.disallow()


def _gen(server: Server, key: str | None = KEY, **config: object) -> RemoteGenerator:
    return RemoteGenerator(ServerConfig(url=server.url, enabled=True, **config), key)  # type: ignore[arg-type]


def test_streams_an_answer_in_pieces(server: Server) -> None:
    gen = _gen(server)
    gen.warm_up()
    assert gen.backend == "answers: 127.0.0.1 · tiny-llama"
    assert gen.prompt_rate and gen.prompt_rate > 0  # measured on the server's own count
    pieces = list(gen.stream(SYSTEM, USER, 24, CancelToken()))
    assert len(pieces) > 3, pieces  # streamed, not one block
    assert gen.last_prompt is not None and gen.last_prompt.first_token_seconds > 0
    assert gen.count_tokens(USER) > 0
    gen.close()


def test_probe_shows_the_round_trip_and_the_model(server: Server) -> None:
    result = probe(ServerConfig(url=server.url + "/v1/", enabled=True), KEY)
    assert result.models == ["tiny-llama"] and result.model == "tiny-llama"
    assert 0 < result.round_trip < 5
    assert "model tiny-llama" in result.summary()


def test_cancel_mid_answer_stops_the_stream(server: Server) -> None:
    gen = _gen(server)
    cancel = CancelToken()
    got: list[str] = []
    started = time.perf_counter()
    for piece in gen.stream(SYSTEM, USER, 1500, cancel):
        got.append(piece)
        if len(got) == 3:
            cancel.set()
    assert len(got) == 3
    assert time.perf_counter() - started < 30
    # The connection is usable again at once: the next request is answered.
    assert list(gen.stream(SYSTEM, USER, 4, CancelToken()))
    gen.close()


def test_cancel_before_the_first_words_returns_at_once(server: Server) -> None:
    gen = _gen(server)
    gen.warm_up()
    cancel = CancelToken()
    # A long prompt keeps the one-thread server reading; the cancel cuts the wait.
    long_user = USER + ("\n\nThe Supplier shall deliver the Products to the Buyer. " * 60)
    threading.Timer(0.05, cancel.set).start()
    started = time.perf_counter()
    pieces = list(gen.stream(SYSTEM, long_user, 800, cancel))
    assert time.perf_counter() - started < 2.0, pieces
    gen.close()


def test_a_wrong_key_is_said_in_one_line(server: Server) -> None:
    for key in ("wrong-key", None):
        with pytest.raises(RemoteError) as err:
            _gen(server, key).warm_up()
        assert err.value.kind == "auth"
        assert "refused the API key (401)" in str(err.value) and "\n" not in str(err.value)
        assert KEY not in str(err.value)


def test_a_missing_model_is_named(server: Server) -> None:
    with pytest.raises(RemoteError) as err:
        _gen(server, model="llama-3.1-70b").warm_up()
    assert err.value.kind == "model" and "llama-3.1-70b" in str(err.value) and "tiny-llama" in str(err.value)


def test_a_server_that_is_down_is_retried_then_named() -> None:
    port = free_port()  # nothing listens there
    started = time.perf_counter()
    with pytest.raises(RemoteError) as err:
        RemoteGenerator(ServerConfig(url=f"http://127.0.0.1:{port}", enabled=True)).warm_up()
    assert err.value.kind == "down" and "not reachable" in str(err.value)
    assert time.perf_counter() - started >= sum(remote_http.BACKOFF)  # three tries


def test_a_server_killed_mid_answer(tiny_gguf: Path, tmp_path: Path) -> None:
    doomed = start_server(tiny_gguf, tmp_path / "doomed.log")
    try:
        gen = _gen(doomed, None)
        got: list[str] = []
        with pytest.raises(RemoteError) as err:
            for piece in gen.stream(SYSTEM, USER, 1500, CancelToken()):
                got.append(piece)
                if len(got) == 2:
                    doomed.proc.kill()
        assert got and err.value.kind == "cut", err.value
        assert "closed the connection mid-answer" in str(err.value)
    finally:
        doomed.stop()


def test_tls_verified_with_the_organisations_ca(tls: tuple[Server, Path]) -> None:
    server, ca = tls
    gen = _gen(server, None, ca_file=str(ca))
    gen.warm_up()
    assert list(gen.stream(SYSTEM, USER, 6, CancelToken()))
    gen.close()
    # Without the CA: refused, in one line.
    with pytest.raises(RemoteError) as err:
        _gen(server, None).warm_up()
    assert err.value.kind == "tls" and "not trusted" in str(err.value)
    # The right CA but another name than the certificate's: refused too.
    other = ServerConfig(url=f"https://127.0.0.1:{server.port}", enabled=True, ca_file=str(ca))
    with pytest.raises(RemoteError) as err:
        RemoteGenerator(other).warm_up()
    assert err.value.kind == "tls"


@pytest.mark.skipif(sys.platform != "linux", reason="OpenSSL reads SSL_CERT_FILE for the trust store on Linux")
def test_tls_through_the_os_trust_store(tls: tuple[Server, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    server, ca = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # where a firm's CA sits once IT installed it
    gen = _gen(server, None)
    gen.warm_up()
    assert gen.backend == "answers: localhost · tiny-llama"
    gen.close()


def test_the_guard_admits_the_server_and_nothing_else(server: Server) -> None:
    gen = _gen(server)
    gen.warm_up()
    # In the same process, with the server in use: any other host is refused (before
    # any packet: the audit hook runs before the system call) and remembered.
    before = len(egress.attempts())
    with pytest.raises(egress.EgressBlocked):
        socket.create_connection(("192.0.2.7", 443), timeout=1)
    with pytest.raises(egress.EgressBlocked):
        socket.getaddrinfo("telemetry.example.com", 443)
    assert [a.target for a in egress.attempts()[before:]] == ["192.0.2.7:443", "telemetry.example.com:443"]
    assert list(gen.stream(SYSTEM, USER, 4, CancelToken()))  # the server still is reachable
    gen.close()


def test_allow_admits_exactly_one_host_and_port() -> None:
    """The rule itself, on a documentation address (the events are raised by hand with
    sys.audit, as the socket module raises them: nothing is sent anywhere)."""
    allowed = egress.allow("192.0.2.10", 8443)
    assert allowed.describe() == "192.0.2.10:8443" and egress.allowed() == allowed
    sys.audit("socket.connect", None, ("192.0.2.10", 8443))
    sys.audit("socket.getaddrinfo", "192.0.2.10", 8443, 0, 0, 0, 0)
    for event, args in [("socket.connect", (None, ("192.0.2.10", 8444))),
                        ("socket.connect", (None, ("192.0.2.11", 8443))),
                        ("socket.getaddrinfo", ("gpu-server.firm.local", 8443, 0, 0, 0, 0))]:
        with pytest.raises(egress.EgressBlocked):
            sys.audit(event, *args)
    egress.allow("2001:db8::10", 443)  # another server replaces the first
    sys.audit("socket.connect", None, ("2001:DB8:0::10", 443, 0, 0))
    with pytest.raises(egress.EgressBlocked):
        sys.audit("socket.connect", None, ("192.0.2.10", 8443))
    egress.disallow()
    with pytest.raises(egress.EgressBlocked):
        sys.audit("socket.connect", None, ("2001:db8::10", 443, 0, 0))


def test_testing_a_server_leaves_the_one_in_use_admitted(server: Server) -> None:
    in_use = egress.allow("192.0.2.10", 8443)  # the configured server (an address nothing uses)
    assert probe(ServerConfig(url=server.url, enabled=True), KEY).model == "tiny-llama"
    assert egress.allowed() == in_use
    gen = _gen(server)
    gen.warm_up()  # loopback: no other server stays admitted
    assert egress.allowed() is None
    gen.close()


def test_a_server_that_stops_sending_times_out_in_one_line() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections (the kernel does), never answers
    try:
        config = ServerConfig(url=f"http://127.0.0.1:{silent.getsockname()[1]}", enabled=True, timeout=0.5)
        started = time.perf_counter()
        with pytest.raises(RemoteError) as err:
            RemoteGenerator(config).warm_up()
        assert err.value.kind == "timeout" and "timed out" in str(err.value)
        assert time.perf_counter() - started < 3  # no retry once the request was sent
    finally:
        silent.close()
