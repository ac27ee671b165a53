"""The privacy proof for a connected client: under strace, ``docqa`` connected to a team
server (sign-in, matter list, search, an answer written by the configured answer server)
opens no connection except to the team server and the answer server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.rag.test_privacy_e2e import _env
from tests.team.conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seeded(team, embedder):
    from team import admin
    from tests.helpers.team_seed import add_document

    texts = ["Please book a cardiology review within six weeks.",
             "The echocardiogram showed mild mitral regurgitation."]
    with team.admin() as db:
        admin.user_add(db, "pia", PASSWORD)
        mid = admin.matter_add(db, "ward 4")
        admin.matter_add(db, "ward 5")
        add_document(db, mid, "referral.txt", texts, np.asarray(embedder.embed(texts)))
        admin.member_add(db, "ward 4", "pia")


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_strace_connected_client_reaches_the_team_and_answer_servers_only(team, seeded, tmp_path: Path,
                                                                          tiny_gguf: Path) -> None:
    from tests.helpers.openai_server import start_server

    answers = start_server(tiny_gguf, tmp_path / "server.log", ctx=4096)
    team_port = int(team.url.rsplit(":", 1)[1])
    env = {**_env(), "DOCQA_HOME": str(tmp_path / "home"), "DOCQA_TEAM_PASSWORD": PASSWORD}
    base = [sys.executable, "-m", "rag.cli"]
    log = tmp_path / "net.log"
    strace = ["strace", "-f", "-qq", "-A", "-e", "trace=connect,sendto,sendmsg", "-o", str(log)]

    def run(*args: str, token: str = "") -> subprocess.CompletedProcess[str]:
        # No keychain in a child process: the token of the sign-in goes in by the environment.
        r = subprocess.run([*strace, *base, *args], capture_output=True, text=True, timeout=600, cwd=REPO,
                           env={**env, **({"DOCQA_TEAM_TOKEN": token} if token else {})}, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (args, r.stderr[-2000:])
        return r

    try:
        run("connect", team.url)
        run("login", "pia")
        token = team.token("pia")
        assert run("matters", "--json", token=token).stdout.strip() == json.dumps(["ward 4"])
        found = json.loads(run("--matter", "ward 4", "search", "cardiology review", "-k", "1", "--json",
                               token=token).stdout)
        assert "six weeks" in found[0]["text"]
        got = json.loads(run("--matter", "ward 4", "ask", "How soon should the cardiology review be booked?",
                             "--server", answers.url, "--max-tokens", "16", "--json", token=token).stdout)
        assert "six weeks" in got["quotes"][0]["text"]
        assert got["backend"] == "answers: 127.0.0.1 · tiny-llama"  # written by the answer server
    finally:
        answers.stop()
    inet = [ln for ln in log.read_text().splitlines() if re.search(r"AF_INET6?\b", ln)]
    ports = {int(m.group(1)) for ln in inet if (m := re.search(r"sin6?_port=htons\((\d+)\)", ln))}
    assert ports == {team_port, answers.port}, inet[:8]
    assert all(re.search(r'inet_addr\("127\.0\.0\.1"\)', ln) for ln in inet), inet[:8]
