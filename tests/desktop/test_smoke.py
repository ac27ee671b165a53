"""The packaged smoke mode runs the real app end to end in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.gui
@pytest.mark.slow
def test_smoke_mode(tmp_path: Path, sample_pdf: Path, tiny_gguf: Path) -> None:
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(
        [sys.executable, "-m", "desktop", "--smoke", str(sample_pdf), "How can either party terminate?",
         "--screenshot", str(shot), "--model", str(tiny_gguf), "--threads", "1", "--timeout", "150"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=200,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "smoke: ok" in r.stdout
    assert shot.stat().st_size > 10_000


def test_desktop_never_loads_qt_network() -> None:
    """No networking module is even imported by the app (nothing may leave the machine)."""
    code = (
        "import sys, desktop.app, desktop.smoke;"
        "bad=[m for m in sys.modules if m.startswith(('PySide6.QtNetwork','PySide6.QtWebEngine'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.gui
@pytest.mark.slow
def test_smoke_mode_fails_with_a_reason(tmp_path: Path, sample_pdf: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run(
        [sys.executable, "-m", "desktop", "--smoke", str(sample_pdf), "How can either party terminate?",
         "--model", str(tmp_path / "missing.gguf"), "--threads", "1", "--timeout", "120"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=180,
    )
    assert r.returncode != 0
    assert "model file not found" in r.stderr
