"""A laptop's side of team mode: the docqa-server it is connected to, signing in, and the
matters, searches and quotes it serves.

The server's address lives in ``team.json`` in docqa's data folder (``docqa connect``);
the sign-in token only in the OS keychain (or, where there is none, in DOCQA_TEAM_TOKEN
for this process): never in a file. Before a connection the egress guard admits that one
host and port (rag/privacy/egress.py: allow_team), and nothing else. Nothing the server
sends is kept on disk.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.ask.server_config import BadServer, check_url
from rag.paths import data_dir
from rag.privacy import egress
from rag.store.atomic import write_atomic
from rag.store.keys import SERVICE, secure_keyring

CONFIG_FILE = "team.json"
TOKEN_ENV = "DOCQA_TEAM_TOKEN"


class TeamError(RuntimeError):
    """The team server refused or failed; ``str(err)`` is one line a user understands.
    ``status`` is the HTTP status (0 when the server did not answer): 401 means signed
    out (the session ended), 404 on a matter that it is not one of the user's."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status

    @property
    def signed_out(self) -> bool:
        return self.status == 401


@dataclass(frozen=True)
class TeamConfig:
    url: str = ""
    user: str = ""
    unencrypted: bool = False
    ca_file: str = ""  # the organisation's CA, when IT has not installed it system-wide


def load(folder: Path | None = None) -> TeamConfig:
    path = (folder or data_dir()) / CONFIG_FILE
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return TeamConfig()
    return TeamConfig(**{k: raw[k] for k in asdict(TeamConfig()) if k in raw})


def save(config: TeamConfig, folder: Path | None = None) -> None:
    folder = folder or data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / CONFIG_FILE, json.dumps(asdict(config), indent=1).encode())


def connect(url: str, *, unencrypted: bool = False, ca_file: str = "", folder: Path | None = None) -> TeamConfig:
    """Remember the team server (https://, or http:// to this computer or with
    ``unencrypted``); signs out of any other."""
    clean = check_url(url, unencrypted=unencrypted)
    old = load(folder)
    if old.url and old.url != clean:
        forget_token(old.url)
    config = TeamConfig(url=clean, unencrypted=unencrypted, ca_file=ca_file)
    save(config, folder)
    return config


def _account(url: str) -> str:
    return f"team:{url}"


def store_token(url: str, token: str) -> bool:
    """Keep the token in the OS keychain; False when there is none (then it lives only in
    this process)."""
    kr = secure_keyring()
    if kr is None:
        os.environ[TOKEN_ENV] = token
        return False
    kr.set_password(SERVICE, _account(url), token)
    return True


def get_token(url: str) -> str | None:
    kr = secure_keyring()
    token = kr.get_password(SERVICE, _account(url)) if kr is not None else None
    return token or os.environ.get(TOKEN_ENV) or None


def forget_token(url: str) -> None:
    kr = secure_keyring()
    if kr is not None:
        try:
            kr.delete_password(SERVICE, _account(url))
        except Exception:  # noqa: BLE001 (nothing stored is fine)
            pass
    os.environ.pop(TOKEN_ENV, None)


class TeamClient:
    def __init__(self, config: TeamConfig, token: str | None = None, timeout: float = 60.0) -> None:
        import httpx

        if not config.url:
            raise BadServer("not connected to a team server: docqa connect URL")
        parts = urlsplit(config.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        egress.allow_team(host, port)  # this one server, nothing else
        self.config = config
        verify: Any = True
        if parts.scheme == "https":
            verify = _tls_context(config.ca_file)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=config.url, headers=headers, timeout=timeout, verify=verify,
                                  trust_env=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TeamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            r = self._http.request(method, path, **kw)
        except httpx.HTTPError as err:
            raise TeamError(f"the team server at {self.config.url} did not answer ({type(err).__name__})") from None
        if r.status_code >= 400:
            try:
                why = str(r.json().get("error", ""))
            except ValueError:
                why = ""
            raise TeamError(why or f"the team server answered {r.status_code}", r.status_code)
        return r.json()

    def login(self, name: str, password: str) -> str:
        token = str(self._call("POST", "/login", json={"name": name, "password": password})["token"])
        self._http.headers["Authorization"] = f"Bearer {token}"
        return token

    def logout(self) -> None:
        self._call("POST", "/logout")

    def matters(self) -> list[str]:
        return list(self._call("GET", "/matters")["matters"])

    def search(self, matter: str, query: str, k: int = 8,
               documents: Sequence[int] | None = None) -> list[dict[str, Any]]:
        body = {"query": query, "k": k, "documents": list(documents) if documents else None}
        return list(self._call("POST", f"/matters/{_seg(matter)}/search", json=body)["passages"])

    def quotes(self, matter: str, question: str, k: int = 8,
               documents: Sequence[int] | None = None) -> dict[str, Any]:
        body = {"query": question, "k": k, "documents": list(documents) if documents else None}
        return dict(self._call("POST", f"/matters/{_seg(matter)}/quotes", json=body))

    def documents(self, matter: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/matters/{_seg(matter)}/documents")["documents"])

    def upload(self, matter: str, path: Path) -> dict[str, Any]:
        """Send one file to the matter (its bytes as the body); the server parses and
        indexes it in the background: follow it with :meth:`ingest_state`."""
        with open(path, "rb") as fh:
            return dict(self._call("POST", f"/matters/{_seg(matter)}/documents", params={"name": path.name},
                                   content=fh, headers={"Content-Type": "application/octet-stream"}))

    def ingest_state(self, matter: str, job: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/matters/{_seg(matter)}/ingest/{int(job)}"))

    def review(self, matter: str, columns: Sequence[str], documents: Sequence[int] | None = None
               ) -> list[dict[str, Any]]:
        body = {"columns": list(columns), "documents": list(documents) if documents is not None else None}
        return list(self._call("POST", f"/matters/{_seg(matter)}/review", json=body)["rows"])

    def page(self, matter: str, doc_id: int, page: int) -> str:
        return str(self._call("GET", f"/matters/{_seg(matter)}/documents/{int(doc_id)}/pages/{int(page)}")["text"])


def _seg(matter: str) -> str:
    from urllib.parse import quote

    return quote(matter, safe="")


def _tls_context(ca_file: str) -> ssl.SSLContext:
    """The OS trust store (where IT installs the organisation's CA), plus ``ca_file``."""
    import truststore

    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_file:
        ctx.load_verify_locations(ca_file)
    return ctx
