"""The server's hash-chained audit trail (table ``team_audit``).

Each row's hash covers its fields and the previous row's hash; ids run 1, 2, 3 ... with
no gap. Rows are added under a row lock on ``team_audit_head`` (which holds the last id
and hash), so concurrent requests chain one after another. The application role may
add rows but not change or delete them; the owner could, and :func:`verify` shows where
(an edited field, a removed or reordered row, rows cut off the end). What a determined
owner of the database can rewrite end to end, only a copy of the head kept elsewhere
proves (``docqa-server audit head`` prints it for that).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    user_name: str
    matter: str
    action: str
    outcome: str
    passage_ids: tuple[int, ...]
    detail: str  # JSON text, as hashed
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": _when(self.at), "user": self.user_name, "matter": self.matter,
                "action": self.action, "outcome": self.outcome, "passage_ids": list(self.passage_ids),
                "detail": json.loads(self.detail or "{}")}


def _when(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(id: int, at: datetime, user_name: str, matter: str, action: str, outcome: str,
               passage_ids: Sequence[int], detail: str, prev_hash: str) -> str:
    body = json.dumps([id, _when(at), user_name, matter, action, outcome, [int(p) for p in passage_ids],
                       detail, prev_hash], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(db: Any, user_name: str, action: str, *, matter: str = "", outcome: str = "ok",
           passage_ids: Sequence[int] = (), **detail: Any) -> int:
    """Add one row in the caller's transaction (it commits with the work it records);
    returns its id."""
    last_id, prev = db.run("SELECT last_id, hash FROM team_audit_head WHERE one FOR UPDATE")[0]
    new_id = int(last_id) + 1
    at = datetime.now(UTC)
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    ids = [int(p) for p in passage_ids]
    h = entry_hash(new_id, at, user_name, matter, action, outcome, ids, text, prev)
    db.run("INSERT INTO team_audit (id, at, user_name, matter, action, outcome, passage_ids, detail, prev_hash, "
           "hash) VALUES (:id, :at, :u, :m, :a, :o, CAST(:p AS bigint[]), :d, :prev, :h)",
           id=new_id, at=at, u=user_name, m=matter, a=action, o=outcome, p=ids, d=text, prev=prev, h=h)
    db.run("UPDATE team_audit_head SET last_id = :id, hash = :h WHERE one", id=new_id, h=h)
    return new_id


_COLUMNS = "id, at, user_name, matter, action, outcome, passage_ids, detail, prev_hash, hash"


def _entry(row: Sequence[Any]) -> Entry:
    return Entry(int(row[0]), row[1], row[2], row[3], row[4], row[5], tuple(int(p) for p in row[6] or ()),
                 row[7], row[8], row[9])


def entries(db: Any, matter: str | None = None, after: int = 0, limit: int = 1000) -> list[Entry]:
    if matter is None:
        rows = db.run(f"SELECT {_COLUMNS} FROM team_audit WHERE id > :after ORDER BY id LIMIT :n",
                      after=after, n=limit)
    else:
        rows = db.run(f"SELECT {_COLUMNS} FROM team_audit WHERE matter = :m AND id > :after ORDER BY id LIMIT :n",
                      m=matter, after=after, n=limit)
    return [_entry(r) for r in rows]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    problems: tuple[str, ...]
    head: str


def verify(db: Any, batch: int = 5000) -> Verdict:
    """Walk the whole chain. Every problem is one line naming the row where the chain breaks."""
    problems: list[str] = []
    prev_hash, prev_id, rows = GENESIS, 0, 0
    while True:
        chunk = entries(db, after=prev_id, limit=batch)
        for e in chunk:
            rows += 1
            if e.id != prev_id + 1:
                problems.append(f"row {e.id}: rows {prev_id + 1}-{e.id - 1} are missing")
            if e.prev_hash != prev_hash:
                problems.append(f"row {e.id}: does not follow the row before it (removed, reordered or edited)")
            want = entry_hash(e.id, e.at, e.user_name, e.matter, e.action, e.outcome, e.passage_ids,
                              e.detail, e.prev_hash)
            if want != e.hash:
                problems.append(f"row {e.id}: its content was changed after it was written")
            prev_hash, prev_id = e.hash, e.id
        if len(chunk) < batch:
            break
    got = db.run("SELECT last_id, hash FROM team_audit_head WHERE one")
    head = got[0] if got else None
    if head is None:
        problems.append("the audit head is missing")
    elif (int(head[0]), head[1]) != (prev_id, prev_hash):
        problems.append(f"the last row is {prev_id} but the head says {head[0]}: rows were removed from the end"
                        if int(head[0]) != prev_id else "the last row's hash differs from the head's")
    return Verdict(not problems, rows, tuple(problems), prev_hash)


def matter_report(db: Any, matter: str) -> dict[str, Any]:
    """Who did what in a matter, for an ethical-wall certification: per user, each action's
    count and first and last time; every denied attempt listed."""
    rows = db.run("SELECT user_name, action, outcome, count(*), min(at), max(at) FROM team_audit WHERE matter = :m "
                  "GROUP BY user_name, action, outcome ORDER BY user_name, action, outcome", m=matter)
    users: dict[str, list[dict[str, Any]]] = {}
    for name, action, outcome, n, first, last in rows:
        users.setdefault(name, []).append({"action": action, "outcome": outcome, "count": int(n),
                                           "first": _when(first), "last": _when(last)})
    denied = [_entry(r).to_json() for r in db.run(
        f"SELECT {_COLUMNS} FROM team_audit WHERE matter = :m AND outcome = 'denied' ORDER BY id", m=matter)]
    return {"matter": matter, "users": users, "denied": denied}
