"""The server's settings, in one typed object made by the CLI (or a test) and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from team.accounts import TokenPolicy
from team.db import DbConfig
from team.throttle import LoginPolicy


@dataclass(frozen=True)
class ServerSettings:
    db: DbConfig  # as the application role: never the owner (team/guard.py checks)
    tokens: TokenPolicy = field(default_factory=TokenPolicy)
    logins: LoginPolicy = field(default_factory=LoginPolicy)  # failed sign-ins before a lock
    pool_size: int = 16  # database connections; requests beyond wait for one
    max_k: int = 50  # most passages one search returns
    max_upload: int = 200 * 1024 * 1024  # bytes per uploaded file
    upload_dir: Path | None = None  # where uploads wait for their parser (a private temp folder if None)
    # Threads of one encode and of one matrix product in the server's own process (team/
    # engine.py: limit_threads); 0 leaves torch's and BLAS's defaults (one per core).
    compute_threads: int = 1
    warm_on_login: bool = True  # read a user's matters when they sign in (team/engine.py: warm_soon)
    ingest_workers: int = 1  # parser processes; each file is parsed in one (rag/ingest/parsing/isolated.py)
