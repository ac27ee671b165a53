"""A cancel token checked by long-running work between files, batches and tokens."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside the engine when a token is set; callers normally never see it."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    cancel = set

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set (True) or ``timeout`` passes (False): for a watcher that must
        interrupt a blocking read, such as a server's first token."""
        return self._event.wait(timeout)

    def raise_if_set(self) -> None:
        if self._event.is_set():
            raise Cancelled()


