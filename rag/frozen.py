"""Running from an installed (PyInstaller-frozen) app rather than a source checkout.

A frozen app has no ``python -m``: its executable is ``docqa`` or ``docqa-desktop``. The
engine's helper processes (the parser worker, the llama.cpp library probe) are therefore
started as the same executable with ``DOCQA_CHILD`` naming the role, and both entry
points call :func:`run_child_if_requested` before anything else. From a checkout they
stay plain ``python -m module`` children.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHILD_ENV = "DOCQA_CHILD"

# role -> (module, function) run in the child; kept tiny so a child imports only what it needs.
CHILD_ROLES: dict[str, tuple[str, str]] = {
    "parse-worker": ("rag.ingest.parsing.isolated", "_worker_main"),
    "llama-probe": ("rag.ask.llama_probe", "main"),
}


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path | None:
    """The folder the frozen app unpacked its data into (``_internal``); None from a checkout."""
    if not is_frozen():
        return None
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if meipass else Path(sys.executable).resolve().parent


def child_command(role: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment that start helper ``role`` with ``args``."""
    module, _func = CHILD_ROLES[role]
    if is_frozen():
        # The console program, also when called from docqa-desktop: a windowed Windows
        # program has no stdin/stdout for the helper's pipes.
        exe = Path(sys.executable)
        cli = exe.with_name("docqa" + exe.suffix)
        return [str(cli if cli.exists() else exe), *args], {CHILD_ENV: role}
    return [sys.executable, "-m", module, *args], {}


# Passed to subprocess.Popen: no console window flashing up for a helper on Windows.
NO_WINDOW: int = getattr(subprocess, "CREATE_NO_WINDOW", 0)


def _bundle_environment(root: Path) -> None:
    """Point OCR at the Tesseract shipped in the bundle, when there is one."""
    tess = root / "tesseract"
    if (tess / "tessdata").is_dir():
        os.environ.setdefault("TESSDATA_PREFIX", str(tess / "tessdata"))
        os.environ["PATH"] = str(tess / "bin") + os.pathsep + os.environ.get("PATH", "")


def run_child_if_requested() -> None:
    """At an installed app's start: set up its environment; in a helper process started by
    :func:`child_command`, run the helper and exit."""
    root = bundle_dir()
    if root is not None:
        _bundle_environment(root)
    role = os.environ.pop(CHILD_ENV, "")
    if not role:
        return
    if role not in CHILD_ROLES:
        sys.exit(f"unknown helper role {role!r}")
    import importlib

    module, func = CHILD_ROLES[role]
    getattr(importlib.import_module(module), func)()
    sys.exit(0)
