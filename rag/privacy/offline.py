"""Offline switches, set before any third-party import that might phone home.

Imported first by ``rag/__init__.py`` so that every entry point (CLI, desktop, tests)
gets them: Hugging Face hub lookups, Chroma's telemetry (posthog) and unstructured's
analytics ping (scarf) all read these variables at import time.
"""

from __future__ import annotations

import os

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    # unstructured's advert for its cloud service, printed into the CLI's output otherwise.
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def apply() -> None:
    """Force the offline switches (force, not setdefault: a user's HF_HUB_OFFLINE=0 must not win)."""
    os.environ.update(OFFLINE_ENV)


apply()
