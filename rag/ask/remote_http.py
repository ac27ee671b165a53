"""The wire to an OpenAI-compatible server: one HTTP client, verified TLS, errors in one
line, retries on connection failures only, and the round-trip test Settings shows.

Retries: a request that never reached the server (refused, unreachable, connect timeout)
is tried again after a short pause; one that did is not, since the server may already be
writing an answer (a retry would make it write two).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from rag.ask.server_config import ServerConfig, is_loopback
from rag.cancel import CancelToken
from rag.privacy import egress

T = TypeVar("T")

# Pauses before the second and third tries of a request that could not connect.
BACKOFF = (0.5, 1.5)
CONNECT_TIMEOUT = 5.0


class RemoteError(RuntimeError):
    """Generation on the server failed. ``str(err)`` is one line a user understands;
    ``kind`` is "down", "auth", "model", "tls", "timeout", "cut" or "server"."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Probe:
    """What the server said when tested: its models, the one answers will use, the
    round-trip of a models request, and its context size if it tells."""

    models: list[str]
    model: str
    round_trip: float
    context_size: int | None

    def summary(self) -> str:
        ctx = f", context {self.context_size:,} tokens" if self.context_size else ""
        return f"reached in {self.round_trip * 1000:.0f} ms; model {self.model}{ctx}"


def ssl_context(config: ServerConfig) -> ssl.SSLContext:
    """The OS trust store (where a firm's own authority is installed), plus the configured
    CA bundle if any; hostnames are always checked."""
    import truststore

    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if config.ca_file:
        try:
            ctx.load_verify_locations(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as err:
            raise RemoteError(f"cannot read the CA bundle {config.ca_file}: {err}", "tls") from None
    return ctx  # truststore.SSLContext is an ssl.SSLContext


def make_client(config: ServerConfig, api_key: str | None) -> httpx.Client:
    """A client for the configured server, which the egress guard then admits (and only it)."""
    host = config.host
    if is_loopback(host):
        egress.disallow()  # this computer is always reachable; no other server stays admitted
    else:
        try:
            egress.allow(host, config.port)
        except OSError as err:
            raise RemoteError(f"cannot find the server {host} ({err.strerror or err})", "down") from None
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(
        base_url=config.url,
        headers=headers,
        verify=ssl_context(config) if config.encrypted else False,
        # The read timeout runs between pieces of a stream, not for the whole answer.
        timeout=httpx.Timeout(config.timeout, connect=CONNECT_TIMEOUT),
        # No proxy from the environment: the answer server is inside the organisation, and
        # an HTTP(S)_PROXY would route questions through a host the guard never admitted.
        trust_env=False,
        follow_redirects=False,
    )


def _is_tls(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def explain(err: BaseException, config: ServerConfig) -> RemoteError:
    """One line for an httpx failure, naming the server."""
    host = config.host
    if isinstance(err, RemoteError):
        return err
    if _is_tls(err):
        return RemoteError(f"the server {host}'s certificate is not trusted by this computer ({_short(err)}); "
                           "ask IT to install the organisation's certificate authority", "tls")
    if isinstance(err, httpx.ConnectTimeout):
        return RemoteError(f"the server {host} did not answer within {CONNECT_TIMEOUT:.0f} s", "down")
    if isinstance(err, httpx.ConnectError):
        return RemoteError(f"the server {host} is not reachable ({_short(err)})", "down")
    if isinstance(err, httpx.TimeoutException):
        return RemoteError(f"the server {host} stopped sending for {config.timeout:.0f} s (timed out)", "timeout")
    if isinstance(err, httpx.RemoteProtocolError | httpx.ReadError):
        return RemoteError(f"the server {host} closed the connection mid-answer", "cut")
    return RemoteError(f"the server {host} failed: {_short(err)}", "server")


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:160]


def check_status(resp: httpx.Response, config: ServerConfig, model: str) -> None:
    """Raise :class:`RemoteError` for an error status (after reading its body)."""
    if resp.status_code < 400:
        return
    try:
        body = resp.read().decode(errors="replace")
    except httpx.HTTPError:
        body = ""
    host = config.host
    if resp.status_code in (401, 403):
        raise RemoteError(f"the server {host} refused the API key ({resp.status_code}): set the right one "
                          "in Settings › Model, or with docqa server key", "auth")
    if resp.status_code == 404 and "model" in body.lower():
        raise RemoteError(f"the server {host} has no model {model!r}", "model")
    detail = " ".join(body.split())[:160]
    raise RemoteError(f"the server {host} answered {resp.status_code}: {detail or resp.reason_phrase}", "server")


def with_retries(call: Callable[[], T], config: ServerConfig, cancel: CancelToken | None = None) -> T:
    """``call()``, tried again after BACKOFF pauses if it could not connect (TLS failures
    excepted: they would fail the same way)."""
    for pause in (*BACKOFF, None):
        try:
            return call()
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:
            if pause is None or _is_tls(err) or (cancel is not None and cancel.wait(pause)):
                raise explain(err, config) from None
            if cancel is None:
                time.sleep(pause)
        except httpx.HTTPError as err:
            raise explain(err, config) from None
    raise AssertionError("unreachable")


def list_models(client: httpx.Client, config: ServerConfig) -> tuple[list[str], dict[str, int]]:
    """The server's model ids, and the context size of those that say (vLLM's
    ``max_model_len``, llama-server's ``meta.n_ctx``)."""

    def get() -> httpx.Response:
        resp = client.get("/v1/models")
        check_status(resp, config, config.model)
        return resp

    data = with_retries(get, config).json().get("data") or []
    ids = [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
    sizes: dict[str, int] = {}
    for m in data:
        if not isinstance(m, dict):
            continue
        meta = m.get("meta")
        n = m.get("max_model_len") or (meta.get("n_ctx") if isinstance(meta, dict) else None)
        if isinstance(n, int) and n > 0:
            sizes[str(m["id"])] = n
    return ids, sizes


def props_context(client: httpx.Client) -> int | None:
    """llama-server's context per slot (``/props``); None where the server has no such page."""
    try:
        resp = client.get("/props")
        if resp.status_code != 200:
            return None
        n = resp.json().get("default_generation_settings", {}).get("n_ctx")
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return n if isinstance(n, int) and n > 0 else None


def choose_model(ids: list[str], wanted: str, host: str) -> str:
    if not ids:
        raise RemoteError(f"the server {host} offers no model", "model")
    if not wanted:
        return ids[0]
    if wanted not in ids:
        raise RemoteError(f"the server {host} has no model {wanted!r} (it has: {', '.join(ids[:5])})", "model")
    return wanted


def probe(config: ServerConfig, api_key: str | None) -> Probe:
    """Reach the server as answers will (TLS, key, model): what Settings' Test shows. The
    server in use (if any) is admitted again afterwards: testing one is not choosing it."""
    config = config.checked()
    previous = egress.allowed()
    try:
        with make_client(config, api_key) as client:
            started = time.perf_counter()
            ids, sizes = list_models(client, config)
            trip = time.perf_counter() - started
            model = choose_model(ids, config.model, config.host)
            ctx = sizes.get(model) or props_context(client)
    finally:
        egress.restore(previous)
    return Probe(ids, model, trip, ctx)


def sse_data(lines: Any) -> Any:
    """The JSON payloads of a server-sent event stream, up to ``[DONE]``."""
    import json

    for line in lines:
        if not line.startswith("data:"):
            continue  # comments (": ping"), event names, blank separators
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            yield json.loads(payload)
        except ValueError:
            continue
