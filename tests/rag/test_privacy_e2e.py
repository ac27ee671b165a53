"""The privacy proof CI runs: a contract, a DOCX and an e-mail ingested, searched and
asked about through the CLI, (1) under strace with the network up and the offline
variables unset in the parent environment: no AF_INET/AF_INET6 connect or send other
than loopback; (2) in a network namespace with no network at all (unshare -rn)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.privacy.offline import OFFLINE_ENV
from tests.conftest import CUAD, TEST_PASSPHRASE
from tests.helpers.pdfs import make_text_pdf
from tests.rag.test_cli import OFFLINE

REPO = Path(__file__).resolve().parents[2]
# The smallest contract of the dev corpus, read where it lies (not copied into the repo).
CONTRACT = CUAD / "pdf" / "DOMINIADVISORTRUST_02_18_2005-EX-99.(H)(2)-SPONSORSHIP AGREEMENT.PDF"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import docx

    d = tmp_path_factory.mktemp("corpus")
    if CONTRACT.exists():
        contract = CONTRACT
    else:  # a checkout without the corpus: a made contract keeps the proof running
        contract = make_text_pdf(d / "contract.pdf", [["SPONSORSHIP AGREEMENT", "1. Term. This Agreement "
                                                        "shall continue for one year."]])
    doc = docx.Document()
    doc.add_heading("Discharge letter", 1)
    doc.add_paragraph("The patient was discharged on metoprolol 25 mg twice daily with follow-up in two weeks.")
    doc.save(str(d / "discharge.docx"))
    (d / "referral.eml").write_text(
        "From: Dr Ames <ames@clinic.example>\nTo: Ward 4 <ward4@clinic.example>\n"
        "Subject: Referral for cardiology review\nDate: Mon, 2 Mar 2026 09:00:00 +0000\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Please book a cardiology review within six weeks; the echocardiogram showed mild "
        "mitral regurgitation.\n", encoding="utf-8")
    return [contract, d / "discharge.docx", d / "referral.eml"]


def _env() -> dict[str, str]:
    """The parent environment with every offline switch removed: docqa must set them itself."""
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    env["DOCQA_PASSPHRASE"] = TEST_PASSPHRASE
    return env


def _session(prefix: list[str], lib: Path, corpus: list[Path], model: Path) -> list[subprocess.CompletedProcess[str]]:
    base = [sys.executable, "-m", "rag.cli", "--library", str(lib)]
    steps = [
        ["ingest", *map(str, corpus)],
        ["search", "When was the patient discharged and on what medication?", "-k", "3", "--json"],
        ["ask", "How soon should the cardiology review be booked?", "--json", "--model", str(model)],
    ]
    out = []
    for step in steps:
        r = subprocess.run([*prefix, *base, *step], capture_output=True, text=True, timeout=600, cwd=REPO,
                           env=_env(), stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (step[0], r.stderr[-2000:])
        out.append(r)
    docs = json.loads(subprocess.run([*base, "list", "--json"], capture_output=True, text=True, cwd=REPO,
                                     env=_env()).stdout)
    assert sorted(d["status"] for d in docs) == ["ready"] * 3
    assert "metoprolol" in json.loads(out[1].stdout)[0]["text"]
    assert json.loads(out[2].stdout)["declined"] is False
    return out


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_strace_sees_no_connection_off_this_computer(tmp_path: Path, corpus: list[Path], tiny_gguf: Path) -> None:
    log = tmp_path / "net.log"
    # -A: every step appends to the one log.
    _session(["strace", "-f", "-qq", "-A", "-e", "trace=connect,sendto,sendmsg", "-o", str(log)],
             tmp_path / "lib", corpus, tiny_gguf)
    calls = log.read_text().splitlines()
    inet = [ln for ln in calls if re.search(r"AF_INET6?\b", ln)
            and not re.search(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"', ln)]
    assert inet == [], inet[:5]


def test_the_whole_path_runs_with_no_network_at_all(tmp_path: Path, corpus: list[Path], tiny_gguf: Path) -> None:
    if not OFFLINE:
        pytest.skip("unshare -rn is not available here")
    _session(OFFLINE, tmp_path / "lib", corpus, tiny_gguf)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_strace_ask_with_a_server_connects_to_that_port_only(tmp_path: Path, corpus: list[Path],
                                                             tiny_gguf: Path) -> None:
    """With answers from a server, the only connection docqa makes is to that server."""
    from tests.helpers.openai_server import start_server

    server = start_server(tiny_gguf, tmp_path / "server.log", ctx=4096)
    try:
        lib = tmp_path / "lib"
        base = [sys.executable, "-m", "rag.cli", "--library", str(lib)]
        r = subprocess.run([*base, "ingest", *map(str, corpus)], capture_output=True, text=True, timeout=600,
                           cwd=REPO, env=_env(), stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr[-2000:]
        log = tmp_path / "net.log"
        r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect,sendto", "-o", str(log), *base, "ask",
                            "How soon should the cardiology review be booked?", "--json",
                            "--server", server.url, "--max-tokens", "16"],
                           capture_output=True, text=True, timeout=600, cwd=REPO, env=_env(),
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr[-2000:]
        assert json.loads(r.stdout)["backend"] == "answers: 127.0.0.1 · tiny-llama"
    finally:
        server.stop()
    inet = [ln for ln in log.read_text().splitlines() if re.search(r"AF_INET6?\b", ln)]
    ports = {m.group(1) for ln in inet if (m := re.search(r"sin6?_port=htons\((\d+)\)", ln))}
    assert inet and ports == {str(server.port)}, inet[:5]
    assert all(re.search(r'inet_addr\("127\.0\.0\.1"\)', ln) for ln in inet), inet[:5]
