"""Shared fixtures: real models, real files, a private data directory per test session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import rag  # noqa: F401  (offline switches before anything heavy)

REPO = Path(__file__).resolve().parents[1]
CUAD = Path(os.environ.get("DOCQA_CUAD", REPO.parent / "shared" / "corpus" / "cuad-dev"))


TEST_PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="session", autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the user's real data directory."""
    os.environ["DOCQA_HOME"] = str(tmp_path_factory.mktemp("docqa-home"))


@pytest.fixture(scope="session", autouse=True)
def memory_keyring():
    """Every test library is encrypted. In this process the keys live in a real keyring
    backend kept in memory; child processes (the CLI tests) have no keychain at all and
    use the passphrase path. Neither ever touches the user's real keychain."""
    import keyring

    from tests.helpers.memory_keyring import MemoryKeyring

    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    os.environ["DOCQA_PASSPHRASE"] = TEST_PASSPHRASE
    return backend


@pytest.fixture(scope="session")
def embedder():
    from rag.models.embedder import SentenceTransformerEmbedder

    e = SentenceTransformerEmbedder()
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rag.ask.tiny_model import write_tiny_llama

    return write_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-llama.gguf")


@pytest.fixture(scope="session")
def tiny_gguf_plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model without a chat template: exercises the plain completion prompt."""
    from rag.ask.tiny_model import write_tiny_llama

    return write_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-plain.gguf", chat_template=None)


@pytest.fixture(scope="session")
def gemma_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rag.models.defaults import default_llm_path

    return default_llm_path(tmp_path_factory.mktemp("gemma"))


@pytest.fixture(scope="session")
def cuad() -> Path:
    if not (CUAD / "tests.json").exists():
        pytest.skip(f"CUAD dev corpus not found at {CUAD}")
    return CUAD


@pytest.fixture(scope="session")
def cuad_tests(cuad: Path) -> list[dict]:
    return json.loads((cuad / "tests.json").read_text())


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL 18 with pgvector on a unix socket in a temporary folder, for the whole
    session (tests/helpers/postgres.py); each test makes its own database in it."""
    from tests.helpers.postgres import start_postgres, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def sample_pdf() -> Path:
    return REPO / "assets" / "samples" / "sample-mutual-nda.pdf"


@pytest.fixture
def library(tmp_path: Path, embedder):
    from rag.library import Library

    lib = Library(tmp_path / "lib", embedder)
    yield lib
    lib.close()
