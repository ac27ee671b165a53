"""A real OpenAI-compatible server for the tests: llama-cpp-python's own
(``python -m llama_cpp.server``) on a free loopback port, started as a child process."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    model: str
    api_key: str | None = None
    tls: bool = False
    log: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{'localhost' if self.tls else '127.0.0.1'}:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def server_env() -> dict[str, str]:
    """This process's environment with the llama.cpp build it chose (the server must load
    the same library: llama_backend.select() sets LLAMA_CPP_LIB_PATH)."""
    from rag.ask.llama_backend import select

    select(want_gpu=False)
    return dict(os.environ)


def start_server(model: Path, log: Path, *, alias: str = "tiny-llama", api_key: str | None = None,
                 certfile: Path | None = None, keyfile: Path | None = None, ctx: int = 2048,
                 threads: int = 1, ca: ssl.SSLContext | None = None, timeout: float = 120.0) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", alias,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(ctx), "--n_threads", str(threads),
           "--n_threads_batch", str(threads), "--verbose", "False"]
    if api_key:
        cmd += ["--api_key", api_key]
    if certfile and keyfile:
        cmd += ["--ssl_certfile", str(certfile), "--ssl_keyfile", str(keyfile)]
    fh = open(log, "wb")  # noqa: SIM115 (the child writes to it until it is killed)
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server_env())
    server = Server(proc, port, alias, api_key, tls=certfile is not None, log=log)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            r = httpx.get(f"{server.url}/v1/models", headers=headers, timeout=2, verify=ca if ca else False,
                          trust_env=False)
            if r.status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"llama_cpp.server did not start in {timeout:.0f} s: "
                       f"{log.read_text(errors='replace')[-2000:]}")
