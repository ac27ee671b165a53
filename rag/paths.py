"""Where docqa keeps its data on this computer (and nowhere else)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The user's data directory for docqa; DOCQA_HOME overrides (tests, portable installs)."""
    env = os.environ.get("DOCQA_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("docqa", appauthor=False))


def libraries_dir() -> Path:
    return data_dir() / "libraries"


def default_library() -> Path:
    return libraries_dir() / "default"


def models_dir() -> Path:
    return data_dir() / "models"
