"""Which computer writes the answers: this one, or a server in the organisation.

The choice is the engine's, shared by the command line (``docqa server set``) and the app
(Settings › Model), so it lives in ``server.json`` in docqa's data folder rather than in
the app's settings. The API key never goes there: it is kept in the OS keychain, or where
there is none, wrapped under a passphrase (scrypt, AES-GCM) as library keys are
(:mod:`rag.store.keys`), in ``server-key.json``.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.paths import data_dir
from rag.store.atomic import write_atomic
from rag.store.keys import (
    SCRYPT,
    SERVICE,
    KeyUnavailable,
    Prompt,
    WrongKey,
    _stretch,
    env_prompt,
    secure_keyring,
)

CONFIG_FILE = "server.json"
KEY_FILE = "server-key.json"
# Answers are short (512 tokens) but a busy shared server may queue a request: the read
# timeout is per piece of the stream, so a long answer never hits it while it flows.
DEFAULT_TIMEOUT = 60.0
# When the server does not say its context size (llama-cpp-python's server does not).
DEFAULT_CONTEXT = 4096


class BadServer(ValueError):
    """A server address docqa will not use; ``str(err)`` says why in one line."""


@dataclass(frozen=True)
class ServerConfig:
    """Where answers are written. ``enabled`` False: on this computer (the URL is kept)."""

    url: str = ""
    model: str = ""  # "" = the server's first (usually only) model
    enabled: bool = False
    # Plain http:// to another computer sends questions and quotes readable on the way:
    # only with this set, and the app and the CLI say "unencrypted" wherever they name it.
    unencrypted: bool = False
    # A CA bundle trusted besides the OS trust store (a firm's own authority, when IT
    # has not installed it system-wide).
    ca_file: str = ""
    context_size: int = 0  # 0 = ask the server, else DEFAULT_CONTEXT
    timeout: float = DEFAULT_TIMEOUT

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.url)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def encrypted(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    def checked(self) -> ServerConfig:
        """This configuration with its URL normalised, or :class:`BadServer`."""
        return replace(self, url=check_url(self.url, unencrypted=self.unencrypted)) if self.url else self


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, unencrypted: bool = False) -> str:
    """The base URL normalised (no trailing "/", no "/v1"), or :class:`BadServer`:
    https:// anywhere; http:// only to this computer, or with ``unencrypted``."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadServer(f"not a server address: {url!r} (expected https://HOST[:PORT])")
    if parts.username or parts.password:
        raise BadServer("put the API key in the key setting, not in the address")
    if parts.query or parts.fragment:
        raise BadServer("the server address takes no ?query or #fragment")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise BadServer(f"not a port number in {url!r}") from None
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not unencrypted:
        raise BadServer("http:// would send questions and quotes unencrypted: use https://, "
                        "or allow unencrypted connections explicitly (--unencrypted)")
    path = parts.path.rstrip("/")
    path = path[: -len("/v1")] if path.endswith("/v1") else path
    return f"{parts.scheme}://{parts.netloc}{path}"


def load(folder: Path | None = None) -> ServerConfig:
    """The saved choice; a missing or unreadable file means this computer."""
    try:
        data = json.loads(((folder or data_dir()) / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ServerConfig()
    if not isinstance(data, dict):
        return ServerConfig()
    known = {f.name for f in fields(ServerConfig)}
    try:
        return ServerConfig(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return ServerConfig()


def save(config: ServerConfig, folder: Path | None = None) -> None:
    folder = folder or data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / CONFIG_FILE, json.dumps(asdict(config), indent=1).encode())


# -- the API key ------------------------------------------------------------------------------
def _account(url: str) -> str:
    parts = urlsplit(url)
    return f"server:{parts.scheme}://{parts.netloc}"


class ApiKeys:
    """The server's API key: in the OS keychain when there is a secure one, else wrapped
    under a passphrase (``DOCQA_PASSPHRASE`` first, then ``prompt``)."""

    def __init__(self, folder: Path | None = None, prompt: Prompt | None = None) -> None:
        self.folder = folder
        self.prompt = prompt

    @property
    def _file(self) -> Path:
        return (self.folder or data_dir()) / KEY_FILE

    def _passphrase(self, new: bool) -> str:
        pw = env_prompt(new) or (self.prompt(new) if self.prompt else None)
        if not pw:
            raise KeyUnavailable("this computer has no secure keychain for the server's API key: "
                                 "set a passphrase (DOCQA_PASSPHRASE for scripts)")
        return pw

    def set(self, url: str, key: str) -> str:
        """Keep ``key`` for the server at ``url``; returns where ("keychain" or "passphrase")."""
        kr = secure_keyring()
        if kr is not None:
            kr.set_password(SERVICE, _account(url), key)
            self._drop_wrapped(url)
            return "keychain"
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kdf = {"name": "scrypt", "salt": secrets.token_bytes(16).hex(), **SCRYPT}
        nonce = secrets.token_bytes(12)
        wrapped = AESGCM(_stretch(self._passphrase(True), kdf)).encrypt(nonce, key.encode(), _account(url).encode())
        entries = self._entries()
        entries[_account(url)] = {"kdf": kdf, "nonce": nonce.hex(), "wrapped": wrapped.hex()}
        self._write(entries)
        return "passphrase"

    def get(self, url: str) -> str | None:
        """The key for ``url``, or None when none was set (a server without keys)."""
        kr = secure_keyring()
        if kr is not None:
            found = kr.get_password(SERVICE, _account(url))
            if found is not None:
                return str(found)
        entry = self._entries().get(_account(url))
        if entry is None:
            return None
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            kek = _stretch(self._passphrase(False), dict(entry["kdf"]))
            return AESGCM(kek).decrypt(bytes.fromhex(entry["nonce"]), bytes.fromhex(entry["wrapped"]),
                                       _account(url).encode()).decode()
        except InvalidTag:
            raise WrongKey("wrong passphrase for the server's API key") from None
        except (KeyError, ValueError, TypeError) as err:
            raise KeyUnavailable(f"the server key file {self._file} is damaged ({err!r})") from None

    def forget(self, url: str) -> None:
        kr = secure_keyring()
        if kr is not None:
            import keyring.errors

            try:
                kr.delete_password(SERVICE, _account(url))
            except keyring.errors.PasswordDeleteError:
                pass
        self._drop_wrapped(url)

    def _drop_wrapped(self, url: str) -> None:
        entries = self._entries()
        if entries.pop(_account(url), None) is not None:
            self._write(entries)

    def _entries(self) -> dict[str, Any]:
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return dict(data) if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self._file, json.dumps(entries, indent=1).encode())
