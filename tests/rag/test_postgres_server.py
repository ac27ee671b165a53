"""The test PostgreSQL (tests/helpers/postgres.py) is what team mode needs: pgvector >= 0.8
(iterative index scans), a server not running as root, reachable only by its unix socket."""

from __future__ import annotations

import os
import pwd


def test_postgres_has_pgvector_and_no_tcp(postgres) -> None:
    db = postgres.create_database("fixture_check")
    conn = postgres.connect(database=db)
    try:
        (version,), = conn.run("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert tuple(int(x) for x in version.split(".")[:2]) >= (0, 8)
        (server_major,), = conn.run("SELECT current_setting('server_version_num')::int / 10000")
        assert server_major >= 16
        (listen,), = conn.run("SHOW listen_addresses")
        assert listen == ""  # no TCP listener: the socket file in a private folder only
        conn.run("SET hnsw.iterative_scan = relaxed_order")  # pgvector >= 0.8 knows it
    finally:
        conn.close()
    owner = pwd.getpwuid(os.stat(postgres.root / "data").st_uid).pw_name
    assert owner != "root"  # PostgreSQL refuses root; as root the fixture runs it as nobody
