"""Task 2: one run at a time. A lock in Redis, with an expiry, taken without waiting, released
only by its owner. The test_run_alone_* tests use run_alone on its own (task 2). The others run
each maintenance task with its lock, so each passes once that task is written too (tasks 3 and
4): they watch the lock from the database's side, at each SQL statement a run sends."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

KEYS = {"reconcile_requests": "workit:lock:reconcile-requests", "expire_old_requests": "workit:lock:expire-old-requests"}
TASK_2 = "README, task 2: run_alone(name, ttl) in workit/locks.py, around each maintenance task"
NAME, KEY = "kata-test", "workit:lock:kata-test"  # a lock of the tests' own, for run_alone alone


def still_a_stub(task: str, result: Any) -> str:
    """A run that failed because its task is still the skeleton's: say so, not "the lock is wrong"."""
    if not isinstance(getattr(result, "result", None), NotImplementedError):
        return ""
    return (
        f"{task} is still the skeleton's stub ({result.result}). This test runs the task with "
        "its lock, so it passes once the task is written too (README, tasks 3 and 4); the "
        "test_run_alone_* tests check your run_alone on its own. What it saw: "
    )


def rows_for(db: Any, ago: Callable[..., Any]) -> None:
    """One row each task would change: a stale queued request, and an old sent one."""
    db.add(created_at=ago(hours=3), updated_at=ago(hours=3))
    db.add(status="sent", created_at=ago(days=40), updated_at=ago(days=40))


@contextmanager
def at_each_statement(app: Any, look: Callable[[str], None]) -> Iterator[None]:
    """`look(statement)` before every SQL statement the app sends."""
    from sqlalchemy import event

    from workit.db import db

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        look(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


def run_alone_once(app: Any, ttl: float, during: Callable[[], None] = lambda: None) -> tuple[list[bool], Exception | None]:
    """One `with run_alone(NAME, ttl)`, calling `during()` inside it: what it gave, what it raised."""
    from workit.locks import run_alone

    given: list[bool] = []
    try:
        with app.app_context(), run_alone(NAME, ttl) as alone:
            given.append(alone)
            during()
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - what run_alone raised, looked at by each test
        return given, error
    return given, None


def test_run_alone_holds_a_lock_that_expires_after_ttl_then_releases_it(app, fake_redis):
    client = fake_redis.client()
    seen: list[int] = []

    given, raised = run_alone_once(app, 50, lambda: seen.append(client.pttl(KEY)))

    assert given == [True] and raised is None, (
        f"with no other run, `with run_alone({NAME!r}, 50) as alone` gave {given} and raised {raised!r}; "
        f"expected alone True: this run holds the lock. {TASK_2}."
    )
    assert seen and 0 < seen[0] <= 50_000, (
        f"inside run_alone({NAME!r}, 50), the key {KEY!r} had a PTTL of {seen} ms; expected one in "
        f"(0, 50000]: -2 is no lock (is the key workit:lock: + name?), -1 a lock that never expires "
        f"(a killed run would block every run after it). {TASK_2}."
    )
    assert client.exists(KEY) == 0, f"after the `with` block, {KEY!r} is still there: release the lock."


def test_run_alone_says_no_at_once_while_another_run_holds_the_lock(app, fake_redis):
    client = fake_redis.client()
    # Another run holds the lock for 5 s: a run that waited for it would get it then, and be caught.
    other = client.lock(KEY, timeout=5)
    assert other.acquire(blocking=False)
    token = client.get(KEY)

    started = time.monotonic()
    given, raised = run_alone_once(app, 50)
    waited = time.monotonic() - started

    assert given == [False] and raised is None and waited < 2, (
        f"while another run held {KEY!r}, `with run_alone({NAME!r}, 50) as alone` gave {given} after "
        f"{waited:.1f} s and raised {raised!r}; expected alone False, at once: a run never waits "
        f"for the lock, it skips. {TASK_2}."
    )
    assert client.get(KEY) == token, f"a run that did not hold {KEY!r} changed it: leave another run's lock alone."


def test_run_alone_that_outlived_its_lock_leaves_the_new_owner_alone(app, fake_redis, caplog):
    client = fake_redis.client()

    def lose_the_lock() -> None:
        # The lock expired under a slow run, and another run took it.
        client.set(KEY, "someone-else", px=60_000)

    with caplog.at_level(logging.WARNING):
        given, raised = run_alone_once(app, 50, lose_the_lock)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "lock" in r.getMessage()]
    assert client.get(KEY) == b"someone-else", (
        f"a run lost its lock to another run inside run_alone, and at its end the key holds "
        f"{client.get(KEY)!r}: it deleted the other run's lock. {TASK_2}: release only your own lock (its token)."
    )
    assert given == [True] and raised is None and len(warnings) == 1, (
        f"a run that outlived its lock gave {given}, raised {raised!r} and logged {len(warnings)} warning(s) "
        f"about the lock; expected it to end well (its work is done) with one WARNING. {TASK_2}."
    )


def test_run_alone_with_redis_down_fails_and_runs_nothing(app, fake_redis):
    fake_redis.go_down()
    try:
        given, raised = run_alone_once(app, 50)
    finally:
        fake_redis.come_back()

    assert raised is not None and given == [], (
        f"with Redis down, `with run_alone({NAME!r}, 50) as alone` gave {given} and raised {raised!r}; "
        f"expected an error before the block runs: a run that cannot take the lock cannot know it "
        f"is alone. {TASK_2}."
    )


@pytest.mark.parametrize("task", sorted(KEYS))
def test_a_run_skips_while_another_holds_the_lock(task, ago, database, maintenance, fake_redis, queued):
    db = database()
    rows_for(db, ago)
    before = db.rows()
    # Another run holds the lock for 5 s: far longer than a run needs to reach it, even on a busy
    # machine, and short of pytest-timeout, so a run that waited for it acts then and is caught.
    other = fake_redis.client().lock(KEYS[task], timeout=5)
    assert other.acquire(blocking=False)

    result = maintenance(task)

    assert result.state == "SUCCESS" and db.rows() == before and queued() == {}, (
        f"{still_a_stub(task, result)}while another run held {KEYS[task]!r}, {task} ended {result.state} and changed "
        f"{'nothing' if db.rows() == before else 'rows'} (queued: {queued()}); expected it to skip at once, "
        f"changing nothing. {TASK_2}: the lock's name is the README's, and a run never waits for it."
    )


@pytest.mark.parametrize("task", sorted(KEYS))
def test_the_lock_has_an_expiry_of_the_configured_ttl(task, ago, app, database, maintenance, fake_redis):
    db = database()
    rows_for(db, ago)
    app.config["MAINTENANCE_LOCK_TTL"] = 50
    client = fake_redis.client()
    seen: list[int] = []

    with at_each_statement(app, lambda _statement: seen.append(client.pttl(KEYS[task]))):
        result = maintenance(task)

    assert result.state == "SUCCESS" and seen, (
        f"{still_a_stub(task, result)}{task} ended {result.state}, after {len(seen)} SQL statements"
    )
    assert all(0 < ms <= 50_000 for ms in seen), (
        f"during {task}, with MAINTENANCE_LOCK_TTL=50, the key {KEYS[task]!r} had these PTTLs (ms): "
        f"{sorted(set(seen))[:5]}; expected each in (0, 50000]: -2 is no lock, -1 a lock that never "
        f"expires (a killed run would block every run after it). {TASK_2}."
    )
    assert client.exists(KEYS[task]) == 0, f"after {task}, {KEYS[task]!r} is still there: release the lock."


@pytest.mark.parametrize("task", sorted(KEYS))
def test_a_run_that_outlived_its_lock_leaves_the_new_owner_alone(task, ago, app, database, maintenance, fake_redis, caplog):
    db = database()
    rows_for(db, ago)
    client = fake_redis.client()

    def lose_the_lock(statement: str) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and client.get(KEYS[task]) != b"someone-else":
            # The lock expired under a slow run, and another run took it.
            client.set(KEYS[task], "someone-else", px=60_000)

    with caplog.at_level(logging.WARNING), at_each_statement(app, lose_the_lock):
        result = maintenance(task)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "lock" in r.getMessage()]
    assert client.get(KEYS[task]) == b"someone-else", (
        f"{still_a_stub(task, result)}{task} lost its lock mid-run to another run, and at its end the key holds {client.get(KEYS[task])!r}: "
        f"it deleted the other run's lock. {TASK_2}: release only your own lock (its token)."
    )
    assert result.state == "SUCCESS" and len(warnings) == 1, (
        f"{still_a_stub(task, result)}a run that outlived its lock ended {result.state} ({result.result!r}) with {len(warnings)} warning(s) "
        f"about the lock; expected SUCCESS (its work is done) and one WARNING. {TASK_2}."
    )


@pytest.mark.parametrize("task", sorted(KEYS))
def test_with_redis_down_a_run_does_nothing_and_fails(task, ago, database, maintenance, fake_redis):
    db = database()
    rows_for(db, ago)
    before = db.rows()
    fake_redis.go_down()
    try:
        result = maintenance(task)
    finally:
        fake_redis.come_back()

    assert result.state == "FAILURE" and db.rows() == before, (
        f"with Redis down, {task} ended {result.state} and changed {'nothing' if db.rows() == before else 'rows'}; "
        f"expected FAILURE and no change: a run that cannot take the lock cannot know it is alone. {TASK_2}."
    )
    again = maintenance(task)
    assert again.state == "SUCCESS" and db.rows() != before, (
        f"{still_a_stub(task, again)}with Redis back, the next {task} run ended {again.state} ({again.result!r}) and changed "
        f"{'nothing' if db.rows() == before else 'rows'}; expected it to do the work the failed run left. {TASK_2}."
    )
