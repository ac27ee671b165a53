"""Files that reveal content (chat history, exports' temporary files) sealed with
AES-256-GCM from ``cryptography``: encrypted and authenticated, so a changed byte is
refused rather than read as something else.

A sealed file is ``MAGIC || nonce (12 bytes) || ciphertext+tag``; the file's name is
bound in as associated data, so a sealed file swapped for another one is refused too.
"""

from __future__ import annotations

import os
from pathlib import Path

from rag.store.atomic import write_atomic

MAGIC = b"DQA-GCM1"


class SealedError(ValueError):
    """A sealed file that is damaged, was changed, or was sealed with another key."""


class Sealer:
    """Seals and opens the files of one library with a key derived from its key."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    def seal(self, data: bytes, label: str) -> bytes:
        nonce = os.urandom(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, label.encode())

    def open(self, blob: bytes, label: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 12 + 16:
            raise SealedError(f"{label} is not a sealed docqa file")
        nonce = blob[len(MAGIC) : len(MAGIC) + 12]
        try:
            return bytes(self._aead.decrypt(nonce, blob[len(MAGIC) + 12 :], label.encode()))
        except InvalidTag:
            raise SealedError(f"{label} was changed or belongs to another library") from None

    def write(self, path: Path, data: bytes) -> None:
        """Seal ``data`` into ``path`` atomically (a kill leaves the old file or the new one)."""
        write_atomic(path, self.seal(data, path.name))

    def read(self, path: Path) -> bytes:
        return self.open(path.read_bytes(), path.name)


def is_sealed(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False
