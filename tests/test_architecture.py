"""The engine stays Qt-free and offline by construction."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_rag_does_not_load_qt() -> None:
    code = (
        "import sys, rag, rag.library, rag.cli.main, rag.ask.generation, rag.ingest.parsing.office;"
        "bad=[m for m in sys.modules if m.startswith(('PySide6','shiboken6'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def test_offline_switches_are_forced_on_import() -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="0", ANONYMIZED_TELEMETRY="True")
    code = "import os, rag; print(os.environ['HF_HUB_OFFLINE'], os.environ['ANONYMIZED_TELEMETRY'], os.environ['DO_NOT_TRACK'])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert r.stdout.split() == ["1", "False", "1"]


def test_team_server_is_qt_free_and_the_engine_does_not_know_it() -> None:
    """team/ (docqa-server) builds on rag/; rag/ never imports team/, and neither loads Qt."""
    code = (
        "import sys, team.app, team.cli, team.engine, team.ingest;"
        "bad=[m for m in sys.modules if m.startswith(('PySide6','shiboken6','desktop'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    server = re.compile(r"^\s*(from team[ .]|import team\b)", re.MULTILINE)
    uses = [p for p in (REPO / "rag").rglob("*.py") if server.search(p.read_text())]
    assert uses == []
