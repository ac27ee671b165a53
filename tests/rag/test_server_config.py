"""The server choice and its key: which addresses are accepted, where the key is kept."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from rag.ask import server_config as sc
from rag.store.keys import KeyUnavailable, WrongKey


@pytest.mark.parametrize(("url", "expected"), [
    ("https://gpu-server.firm.local:8443/v1/", "https://gpu-server.firm.local:8443"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://localhost:8000/", "http://localhost:8000"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("https://llm.firm.local/openai/v1", "https://llm.firm.local/openai"),
])
def test_accepted_addresses(url: str, expected: str) -> None:
    assert sc.check_url(url) == expected


@pytest.mark.parametrize(("url", "why"), [
    ("http://gpu-server.firm.local:8000", "unencrypted"),
    ("http://10.20.0.15:8000", "unencrypted"),
    ("ftp://gpu-server", "not a server address"),
    ("gpu-server.firm.local", "not a server address"),
    ("https://user:secret@gpu-server", "API key"),
    ("https://gpu-server:abc", "port"),
])
def test_refused_addresses(url: str, why: str) -> None:
    with pytest.raises(sc.BadServer, match=why):
        sc.check_url(url)


def test_unencrypted_needs_saying_so() -> None:
    assert sc.check_url("http://10.20.0.15:8000", unencrypted=True) == "http://10.20.0.15:8000"
    config = sc.ServerConfig(url="http://10.20.0.15:8000", enabled=True, unencrypted=True).checked()
    assert not config.encrypted and config.port == 8000


def test_saved_without_the_key(tmp_path: Path) -> None:
    sc.save(sc.ServerConfig(url="https://gpu.firm.local", model="llama", enabled=True), tmp_path)
    assert sc.load(tmp_path) == sc.ServerConfig(url="https://gpu.firm.local", model="llama", enabled=True)
    (tmp_path / sc.CONFIG_FILE).write_text("{not json")
    assert not sc.load(tmp_path).active  # a damaged file: answers stay on this computer


def test_key_in_the_keychain(tmp_path: Path, memory_keyring) -> None:
    keys = sc.ApiKeys(tmp_path)
    assert keys.set("https://gpu.firm.local:8443", "sk-dept-1") == "keychain"
    assert keys.get("https://gpu.firm.local:8443") == "sk-dept-1"
    assert keys.get("https://other.firm.local") is None
    assert not (tmp_path / sc.KEY_FILE).exists()
    keys.forget("https://gpu.firm.local:8443")
    assert keys.get("https://gpu.firm.local:8443") is None


def test_key_behind_a_passphrase_without_a_keychain(tmp_path: Path, memory_keyring,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(fail.Keyring())
    try:
        keys = sc.ApiKeys(tmp_path)
        assert keys.set("https://gpu.firm.local", "sk-dept-2") == "passphrase"
        stored = (tmp_path / sc.KEY_FILE).read_text()
        assert "sk-dept-2" not in stored and "wrapped" in json.loads(stored)["server:https://gpu.firm.local"]
        assert keys.get("https://gpu.firm.local") == "sk-dept-2"
        monkeypatch.setenv("DOCQA_PASSPHRASE", "not the passphrase")
        with pytest.raises(WrongKey):
            keys.get("https://gpu.firm.local")
        monkeypatch.delenv("DOCQA_PASSPHRASE")
        with pytest.raises(KeyUnavailable):
            keys.get("https://gpu.firm.local")
    finally:
        keyring.set_keyring(memory_keyring)
