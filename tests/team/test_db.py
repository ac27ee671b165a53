"""The server's connections prepare each statement once and run it by name after."""

from __future__ import annotations


def test_statements_are_prepared_once_and_row_count_still_works(team_db):
    from team.db import Connection

    owner, _app = team_db
    db = owner.connect()
    assert isinstance(db, Connection)
    try:
        db.run("CREATE TEMP TABLE t (x int)")
        for i in range(5):
            db.run("INSERT INTO t VALUES (:x)", x=i)
        assert db.run("SELECT count(*) FROM t WHERE x >= :x", x=2) == [[3]]
        assert len(db._prepared) == 2
        db.run("UPDATE t SET x = x + 1 WHERE x < :x", x=3)
        assert db.row_count == 3  # as after an unnamed statement
        db.MAX_PREPARED = 2
        db.run("SELECT :a::int", a=1)
        assert len(db._prepared) == 2 and "INSERT INTO t VALUES (:x)" not in db._prepared
        db.run("INSERT INTO t VALUES (:x)", x=9)  # prepared again when needed
        assert db.row_count == 1
    finally:
        db.close()
