"""Password guessing is slowed: after too many failed sign-ins for a name, or from one
address, sign-in is refused for a while (429 with Retry-After, growing), and audited."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from team.throttle import LoginPolicy, LoginThrottle, Refused
from tests.team.conftest import PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(t: LoginThrottle, name: str, address: str = "10.0.0.1") -> None:
    t.begin(name, address)
    t.failed(name, address)


def test_a_name_is_locked_after_its_failures_and_the_lock_grows():
    clock = Clock()
    t = LoginThrottle(LoginPolicy(name_failures=5, first_lock=30, longest_lock=100, forget=600), clock)
    for _ in range(5):
        _fail(t, "Alice")
    with pytest.raises(Refused) as refused:
        t.begin("alice", "10.0.0.2")  # the same name, however written, from anywhere
    assert refused.value.retry_after == 30 and refused.value.by == "name"
    t.begin("bob", "10.0.0.2")  # another name is not held up
    t.succeeded("bob", "10.0.0.2")
    clock.now += 31
    _fail(t, "alice")  # one more failure once the lock ended: twice as long
    with pytest.raises(Refused) as refused:
        t.begin("alice", "10.0.0.1")
    assert refused.value.retry_after == 60
    clock.now += 61
    _fail(t, "alice")
    clock.now += 1
    with pytest.raises(Refused) as refused:
        t.begin("alice", "10.0.0.1")
    assert refused.value.retry_after == 100 - 1  # never longer than longest_lock
    clock.now += 100
    t.begin("alice", "10.0.0.1")
    t.succeeded("alice", "10.0.0.1")  # a success clears the name's count
    for _ in range(4):
        _fail(t, "alice")
    t.begin("alice", "10.0.0.1")
    t.abandoned("alice", "10.0.0.1")


def test_a_quiet_count_is_forgotten():
    clock = Clock()
    t = LoginThrottle(LoginPolicy(name_failures=3, first_lock=10, forget=60), clock)
    for _ in range(2):
        _fail(t, "carol")
    clock.now += 61
    for _ in range(2):
        _fail(t, "carol")  # 2, not 4: the first two were forgotten
    t.begin("carol", "10.0.0.1")
    t.abandoned("carol", "10.0.0.1")


def test_an_address_is_locked_across_names_and_a_success_does_not_clear_it():
    clock = Clock()
    t = LoginThrottle(LoginPolicy(name_failures=5, address_failures=4, first_lock=30), clock)
    for i in range(3):
        _fail(t, f"user{i}", "10.9.9.9")
    t.begin("mine", "10.9.9.9")
    t.succeeded("mine", "10.9.9.9")  # the guesser's own account
    _fail(t, "user3", "10.9.9.9")
    with pytest.raises(Refused) as refused:
        t.begin("someone", "10.9.9.9")
    assert refused.value.by == "address"
    t.begin("someone", "10.1.1.1")  # another address is not held up
    t.abandoned("someone", "10.1.1.1")


def test_attempts_under_way_count_against_the_limit():
    t = LoginThrottle(LoginPolicy(name_failures=3), Clock())
    for _ in range(3):
        t.begin("dave", "10.0.0.1")  # three guesses at once, none finished yet
    with pytest.raises(Refused):
        t.begin("dave", "10.0.0.2")
    for _ in range(3):
        t.failed("dave", "10.0.0.1")
    with pytest.raises(Refused):
        t.begin("dave", "10.0.0.2")


def test_remembered_keys_are_bounded():
    t = LoginThrottle(LoginPolicy(max_keys=10), Clock())
    for i in range(50):
        _fail(t, f"n{i}", f"a{i}")
    assert len(t._counts) <= 10


@contextmanager
def _server(team_db, embedder, policy: LoginPolicy) -> Iterator[str]:
    from team import admin
    from team.app import create_app
    from team.engine import Engine
    from team.settings import ServerSettings
    from tests.helpers.team_server import admin_tx, serving

    owner, app_db = team_db
    with admin_tx(owner) as db:
        for name in ("tom", "ursula"):
            if not db.run("SELECT 1 FROM team_users WHERE name = :n", n=name):
                admin.user_add(db, name, PASSWORD)
    with serving(create_app(ServerSettings(db=app_db, logins=policy), Engine(embedder))) as url:
        yield url


def test_the_server_refuses_guesses_with_429_and_audits_them(team, team_db, embedder):
    policy = LoginPolicy(name_failures=5, address_failures=50, first_lock=1.0)
    with _server(team_db, embedder, policy) as url:
        for _ in range(5):
            r = httpx.post(f"{url}/login", json={"name": "tom", "password": "a wrong guess"})
            assert r.status_code == 401
        # Locked: even the right password is refused, without being checked.
        r = httpx.post(f"{url}/login", json={"name": "tom", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "too many failed sign-ins" in r.json()["error"]
        assert httpx.post(f"{url}/login", json={"name": "ursula", "password": PASSWORD}).status_code == 200
        time.sleep(1.1)
        r = httpx.post(f"{url}/login", json={"name": "tom", "password": "a wrong guess"})
        assert r.status_code == 401  # the lock ended; this failure locks it for twice as long
        r = httpx.post(f"{url}/login", json={"name": "tom", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) == 2
        time.sleep(2.1)
        assert httpx.post(f"{url}/login", json={"name": "tom", "password": PASSWORD}).status_code == 200
    rows = [r for r in team.audit_rows(user_name="tom", action="login")]
    assert [r[3] for r in rows[-9:]] == ["denied"] * 5 + ["throttled", "denied", "throttled", "ok"]


def test_concurrent_guesses_do_not_slip_past_the_limit(team_db, embedder):
    policy = LoginPolicy(name_failures=3, address_failures=100, first_lock=60)
    with _server(team_db, embedder, policy) as url:
        codes: list[int] = []

        def guess() -> None:
            r = httpx.post(f"{url}/login", json={"name": "ursula", "password": "a wrong guess"}, timeout=60)
            codes.append(r.status_code)

        threads = [threading.Thread(target=guess) for _ in range(12)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert codes.count(401) <= 3 and codes.count(429) >= 9
