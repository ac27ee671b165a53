"""The docqa CLI end to end, in a network namespace with no network at all (unshare -rn)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.pdfs import make_encrypted_pdf

REPO = Path(__file__).resolve().parents[2]


def _has_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-rn", "true"], capture_output=True
    ).returncode == 0


OFFLINE = ["unshare", "-rn"] if _has_unshare() else []


def docqa(lib: Path, *args: str, offline: bool = True, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    cmd = [*(OFFLINE if offline else []), sys.executable, "-m", "rag.cli", "--library", str(lib), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def cli_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "library"


def test_no_network_namespace_is_really_offline() -> None:
    if not OFFLINE:
        pytest.skip("unshare -rn is not available here")
    probe = "import socket; socket.create_connection(('1.1.1.1', 443), timeout=3)"
    r = subprocess.run([*OFFLINE, sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.returncode != 0 and "unreachable" in r.stderr.lower()


def test_ingest_reports_each_bad_file(cli_lib: Path, sample_pdf: Path, tmp_path_factory) -> None:
    bad = tmp_path_factory.mktemp("bad")
    (bad / "empty.pdf").write_bytes(b"")
    (bad / "fake.pdf").write_text("not a pdf at all\n" * 10)
    make_encrypted_pdf(bad / "locked.pdf", sample_pdf)
    r = docqa(cli_lib, "ingest", str(sample_pdf), str(bad / "empty.pdf"), str(bad / "fake.pdf"),
              str(bad / "locked.pdf"), str(bad / "ghost.pdf"))
    assert r.returncode == 3, r.stderr
    assert "indexed 1" in r.stdout and "failed 4" in r.stdout
    assert re.search(r"embedded \d+ passages on CPU, (bfloat16|float32)", r.stdout)  # where it ran
    reasons = dict(re.findall(r"FAILED\s+(\S+): (.+)", r.stdout))
    assert "empty" in reasons["empty.pdf"]
    assert "not a PDF" in reasons["fake.pdf"]
    assert "password" in reasons["locked.pdf"]
    assert "not found" in reasons["ghost.pdf"]
    assert "Traceback" not in r.stderr


def test_list_and_search_json(cli_lib: Path) -> None:
    docs = json.loads(docqa(cli_lib, "list", "--json").stdout)
    ready = [d for d in docs if d["status"] == "ready"]
    assert [d["file"] for d in ready] == ["sample-mutual-nda.pdf"]
    r = docqa(cli_lib, "search", "governing law and jurisdiction", "-k", "3", "--json")
    hits = json.loads(r.stdout)
    assert set(hits[0]) == {"file", "page", "location", "start", "end", "text", "score"}
    assert hits[0]["location"].startswith("page 2")
    assert hits[0]["page"] == 2 and "Oregon" in hits[0]["text"]


def test_search_batch_keeps_order(cli_lib: Path, tmp_path: Path) -> None:
    queries = ["Which law governs?", "How long does the agreement last?", "Who are the parties?"]
    f = tmp_path / "q.jsonl"
    f.write_text("\n".join(json.dumps({"query": q}) for q in queries) + "\n")
    r = docqa(cli_lib, "search", "--batch", str(f), "-k", "2", "--json")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["query"] for x in lines] == queries
    assert all(len(x["results"]) == 2 for x in lines)


def test_ask_json_offline(cli_lib: Path, tiny_gguf: Path) -> None:
    r = docqa(cli_lib, "ask", "What notice is needed to terminate for convenience?", "--json",
              "--model", str(tiny_gguf))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"answer", "quotes", "sentences", "declined", "citations", "backend", "prompt"}
    assert out["backend"].startswith("CPU") and out["declined"] is False
    if out["prompt"] is not None:  # null when the random model wrote nothing
        assert out["prompt"]["tokens"] > 0 and out["prompt"]["first_token_seconds"] > 0
    assert out["citations"][0]["page"] == 2
    assert set(out["citations"][0]) == {"n", "file", "page", "location", "text"}
    quote = out["quotes"][0]
    assert set(quote) == {"n", "file", "page", "location", "text", "start", "end"}
    assert "thirty (30) days" in quote["text"] and quote["location"] == "page 2, § 3.2"
    assert all(s["verdict"] in ("supported", "unsupported", "contradicted") for s in out["sentences"])


def test_ask_shows_the_quotes_before_the_model_and_keeps_them_when_it_cannot_load(
        cli_lib: Path, tmp_path: Path) -> None:
    """Quotes need no model: a model that cannot be loaded (damaged, or no llama.cpp build
    runs on this processor) still leaves the answer's evidence, then one line."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    r = docqa(cli_lib, "ask", "What notice is needed to terminate for convenience?", "--model", str(broken))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stdout.startswith("From the documents:\n  [1] ") and "thirty (30) days" in r.stdout
    assert r.stderr.strip().splitlines()[-1].startswith("error: could not load broken.gguf")
    assert r.stderr.strip().endswith("(the quotes above need no model)")
    r = docqa(cli_lib, "ask", "What notice is needed to terminate for convenience?", "--json", "--model", str(broken))
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["answer"] is None and "thirty (30) days" in out["quotes"][0]["text"]


def test_ask_on_empty_library_is_a_message(tmp_path: Path, tiny_gguf: Path) -> None:
    r = docqa(tmp_path / "empty", "ask", "Anything?", "--model", str(tiny_gguf))
    assert r.returncode == 0 and "no documents" in r.stdout and "Traceback" not in r.stderr


def test_remove(cli_lib: Path) -> None:
    r = docqa(cli_lib, "remove", "sample-mutual-nda.pdf", "nothere.pdf")
    assert "removed sample-mutual-nda.pdf" in r.stdout and "not in the library: nothere.pdf" in r.stderr
    assert json.loads(docqa(cli_lib, "search", "Oregon", "--json").stdout) == []


# The strace proof (with the network up) is in tests/rag/test_privacy_e2e.py, over the
# whole path: a contract, a DOCX and an e-mail; ingest, search and ask.
