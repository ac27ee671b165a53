"""The user's preferences: one typed object, saved as JSON with a schema version.

UI state (window geometry, splitter sizes) is not here: see :mod:`desktop.ui_state`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2
SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    """Preferences, each with its default and what it means."""

    # Path of the GGUF language model; empty means the bundled default model.
    model_path: str = ""
    # CPU threads for generation; 0 lets llama.cpp use every core.
    threads: int = 0
    # "auto" offloads to the GPU when llama.cpp was built with one; "cpu" never does.
    gpu: str = "auto"
    # Tokens of context the model is loaded with (prompt + answer).
    context_size: int = 4096
    # How many passages are retrieved for each question.
    passages: int = 8
    # Folders whose new files are offered for ingest into the current library.
    watched_folders: list[str] = field(default_factory=list)
    # The library selected when the app last closed.
    last_library: str = ""
    # Set once the first-run screen has been read.
    first_run_done: bool = False
    # "system" follows the OS colour scheme; "dark" or "light" forces one.
    theme: str = "system"
    schema_version: int = SCHEMA_VERSION

    def validated(self) -> Settings:
        """A copy with out-of-range values replaced by sensible ones."""
        s = Settings(**asdict(self))
        s.threads = max(0, min(int(s.threads), os.cpu_count() or 64))
        s.gpu = s.gpu if s.gpu in ("auto", "cpu") else "auto"
        s.context_size = max(512, min(int(s.context_size), 131072))
        s.passages = max(1, min(int(s.passages), 32))
        s.theme = s.theme if s.theme in ("system", "dark", "light") else "system"
        return s


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 called the passage count "top_k" and kept the GPU choice as a bool.
    if "top_k" in data:
        data["passages"] = data.pop("top_k")
    if "use_gpu" in data:
        data["gpu"] = "auto" if data.pop("use_gpu") else "cpu"
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = int(data.get("schema_version", 1))
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](dict(data))
        version += 1
    data["schema_version"] = SCHEMA_VERSION
    return data


class SettingsStore:
    """Loads and saves :class:`Settings` in a JSON file (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Settings:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Settings()
        except (OSError, ValueError):
            # A damaged file must not stop the app from starting; keep it for inspection.
            try:
                self.path.replace(self.path.with_suffix(".damaged.json"))
            except OSError:
                pass
            return Settings()
        if not isinstance(data, dict):
            return Settings()
        data = migrate(data)
        known = {f.name for f in fields(Settings)}
        return Settings(**{k: v for k, v in data.items() if k in known}).validated()

    def save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(settings.validated()), indent=2), encoding="utf-8")
        tmp.replace(self.path)
