"""The administrator's commands, as a subprocess: init, user add, matter add, member add,
audit report and verify; errors are one line, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_admin_commands(postgres):
    postgres.create_database("team_cli")
    env = dict(os.environ, PYTHONPATH=str(REPO), DOCQA_DB="team_cli", DOCQA_DB_SOCKET=postgres.unix_sock,
               DOCQA_DB_USER="postgres", DOCQA_NEW_PASSWORD="a long enough password")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "team.cli", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    for args in (["init"], ["init"], ["user", "add", "ann"], ["user", "add", "aud", "--auditor"],
                 ["matter", "add", "acme"], ["member", "add", "acme", "ann"]):
        r = run(*args)
        assert r.returncode == 0, (args, r.stderr)
    r = run("member", "add", "acme", "nobody")
    assert r.returncode == 1 and r.stderr.strip() == "error: no user called 'nobody'"
    r = run("user", "add", "ann")
    assert r.returncode == 1 and r.stderr.strip() == "error: a user called 'ann' exists already"
    short = subprocess.run([sys.executable, "-m", "team.cli", "user", "add", "bo"], capture_output=True, text=True,
                           env={**env, "DOCQA_NEW_PASSWORD": "short"}, timeout=120)
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    report = json.loads(run("audit", "report", "acme").stdout)
    assert [e["action"] for e in report["users"]["admin"]] == ["matter add", "member add"]
    r = run("audit", "verify")
    assert r.returncode == 0 and "the chain is intact" in r.stdout
