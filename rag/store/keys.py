"""One key per library: 32 random bytes, kept in the OS keychain or, where there is no
secure keychain (headless Linux, CI), wrapped (AES-GCM) under a key stretched from a
passphrase with scrypt.

The library folder holds ``key.json``, which says how to find the key and never holds
it in clear: the keychain entry's id, or the wrapped key and the passphrase's salt, and a
check value so that a wrong key is refused before any file is touched. Since the key
itself never changes, changing the passphrase or moving the key into the keychain only
rewraps it. docqa never falls back to plaintext, nor to a keychain that writes secrets
to a plain file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.store.atomic import write_atomic

KEY_FILE = "key.json"
SERVICE = "docqa"
PASSPHRASE_ENV = "DOCQA_PASSPHRASE"
# scrypt at 2^15 x 8: 32 MiB and ~0.1 s per open; a guessed passphrase costs an attacker as much.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}

# A prompt for a passphrase: ``new`` is True when the user is choosing one (ask twice).
Prompt = Callable[[bool], "str | None"]

NO_KEYCHAIN = (
    "this computer has no secure keychain for the library's key: set a passphrase "
    f"(type it when asked, or set {PASSPHRASE_ENV} for scripts)"
)


class KeyUnavailable(RuntimeError):
    """The library's key cannot be had: no keychain entry, no passphrase."""


class WrongKey(KeyUnavailable):
    """The key or passphrase given does not open this library."""


@dataclass(frozen=True)
class LibraryKey:
    """A library's 32-byte key and where it came from ("keychain (...)" or "passphrase")."""

    secret: bytes
    source: str

    def derive(self, purpose: str) -> bytes:
        """A separate 32-byte key per use (manifest, files, audit), so that no two
        primitives ever share a key (HKDF-SHA256, RFC 5869)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(hashes.SHA256(), 32, salt=None, info=f"docqa/{purpose}".encode()).derive(self.secret)


def _check(secret: bytes) -> str:
    return hmac.new(secret, b"docqa key check", hashlib.sha256).hexdigest()[:32]


def secure_keyring() -> Any | None:
    """The OS keychain backend, or None when keyring would only fail, do nothing, or keep
    secrets in a plain file (keyrings.alt)."""
    try:
        import keyring
        from keyring.backends import chainer
    except ImportError:
        return None
    kr = keyring.get_keyring()
    parts = list(kr.backends) if isinstance(kr, chainer.ChainerBackend) else [kr]
    return kr if parts and all(_is_secure(b) for b in parts) else None


def _is_secure(backend: Any) -> bool:
    mod = type(backend).__module__
    if mod.startswith(("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")):
        return False
    return "plaintext" not in type(backend).__name__.lower() and float(getattr(backend, "priority", 0)) > 0


def keyring_name() -> str:
    kr = secure_keyring()
    return getattr(kr, "name", type(kr).__name__) if kr is not None else "none"


def env_prompt(new: bool) -> str | None:
    """The passphrase from the environment (scripts, tests), if set."""
    return os.environ.get(PASSPHRASE_ENV) or None


class KeySource:
    """Finds or makes the key of a library folder: in the OS keychain when there is a
    secure one, else from a passphrase: ``DOCQA_PASSPHRASE`` first, then ``prompt``
    (a terminal prompt in the CLI, a dialog in the app)."""

    def __init__(self, prompt: Prompt | None = None, *, keychain: bool = True) -> None:
        """``keychain=False``: new keys are kept behind a passphrase even where a keychain
        exists (a library opened by other processes or accounts that cannot reach it)."""
        self.prompt = prompt
        self.keychain = keychain

    def _passphrase(self, new: bool) -> str:
        pw = env_prompt(new) or (self.prompt(new) if self.prompt else None)
        if not pw:
            raise KeyUnavailable(NO_KEYCHAIN)
        return pw

    def exists(self, root: Path) -> bool:
        return (root / KEY_FILE).is_file()

    def get(self, root: Path) -> LibraryKey:
        """The key of the library at ``root``, made (and remembered) if it has none yet."""
        info = self._read(root)
        if info is None:
            return self._make(root)
        try:
            return self._load(root, info)
        except (KeyError, ValueError, TypeError) as err:
            raise KeyUnavailable(f"the library's key file {root / KEY_FILE} is damaged ({err!r})") from None

    def _read(self, root: Path) -> dict[str, Any] | None:
        try:
            return dict(json.loads((root / KEY_FILE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise KeyUnavailable(f"the library's key file {root / KEY_FILE} is damaged ({err})") from None

    def _make(self, root: Path) -> LibraryKey:
        secret = secrets.token_bytes(32)
        info = {"version": 1, "id": uuid.uuid4().hex}
        store = "keychain" if self.keychain and secure_keyring() is not None else "passphrase"
        # The key is kept before anything is encrypted with it: a kill right after this
        # leaves a library that opens (and finishes encrypting) next time.
        return self._keep(root, info, secret, store, self._passphrase(True) if store == "passphrase" else "")

    def _keep(self, root: Path, info: dict[str, Any], secret: bytes, store: str, passphrase: str) -> LibraryKey:
        """Write ``key.json`` (and the keychain entry) for ``secret`` kept in ``store``."""
        info = {"version": 1, "id": info["id"], "store": store, "check": _check(secret)}
        if store == "keychain":
            kr = secure_keyring()
            if kr is None:
                raise KeyUnavailable(NO_KEYCHAIN)
            kr.set_password(SERVICE, str(info["id"]), secret.hex())
            source = f"keychain ({keyring_name()})"
        else:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            kdf = {"name": "scrypt", "salt": secrets.token_bytes(16).hex(), **SCRYPT}
            nonce = secrets.token_bytes(12)
            wrapped = AESGCM(_stretch(passphrase, kdf)).encrypt(nonce, secret, b"docqa library key")
            info.update(kdf=kdf, nonce=nonce.hex(), wrapped=wrapped.hex())
            source = "passphrase"
        write_atomic(root / KEY_FILE, json.dumps(info, indent=1).encode())
        return LibraryKey(secret, source)

    def change(self, root: Path, key: LibraryKey, store: str, passphrase: str = "") -> LibraryKey:
        """Keep the library's key in ``store``: "keychain", or "passphrase" (the new
        ``passphrase``): a new passphrase, or a key moved into or out of the keychain
        (out of it, to take a library to another computer). The key itself stays the
        same, so no file needs re-encrypting."""
        if store == "passphrase" and not passphrase:
            raise KeyUnavailable("a new passphrase is needed")
        info = self._read(root) or {"id": uuid.uuid4().hex}
        old_store = info.get("store")
        new = self._keep(root, info, key.secret, store, passphrase)
        if old_store == "keychain" and store != "keychain":
            self._delete_keychain_entry(str(info["id"]))
        return new

    def _load(self, root: Path, info: dict[str, Any]) -> LibraryKey:
        if info.get("store") == "keychain":
            kr = secure_keyring()
            stored = kr.get_password(SERVICE, str(info["id"])) if kr is not None else None
            if stored is None:
                raise KeyUnavailable(
                    "the key of this library is not in this computer's keychain "
                    f"({keyring_name()}); it cannot be opened here"
                )
            secret, source = bytes.fromhex(stored), f"keychain ({keyring_name()})"
        else:
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            kek = _stretch(self._passphrase(False), dict(info["kdf"]))
            try:
                secret = AESGCM(kek).decrypt(bytes.fromhex(str(info["nonce"])), bytes.fromhex(str(info["wrapped"])),
                                             b"docqa library key")
            except InvalidTag:
                raise WrongKey("wrong passphrase for this library: nothing was changed") from None
            source = "passphrase"
        if not hmac.compare_digest(_check(secret), str(info.get("check", ""))):
            raise WrongKey("wrong passphrase or key for this library: nothing was changed")
        return LibraryKey(secret, source)

    def forget(self, root: Path) -> None:
        """Delete the library's key from the keychain (with its folder, the library is gone)."""
        try:
            info = self._read(root)
        except KeyUnavailable:
            return
        if info and info.get("store") == "keychain":
            self._delete_keychain_entry(str(info["id"]))

    def _delete_keychain_entry(self, lib_id: str) -> None:
        kr = secure_keyring()
        if kr is not None:
            import keyring.errors

            try:
                kr.delete_password(SERVICE, lib_id)
            except keyring.errors.PasswordDeleteError:
                pass


def _stretch(passphrase: str, kdf: dict[str, Any]) -> bytes:
    n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    return hashlib.scrypt(passphrase.encode(), salt=bytes.fromhex(str(kdf["salt"])), n=n, r=r, p=p,
                          maxmem=256 * n * r, dklen=32)
