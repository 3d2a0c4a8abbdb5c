"""Task 2: one run at a time. A lock in Redis, with an expiry, taken without waiting, released
only by its owner. The tests watch the lock from the database's side: at each SQL statement
a run sends, the test looks at the key in Redis."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

KEYS = {"reconcile_requests": "workit:lock:reconcile-requests", "expire_old_requests": "workit:lock:expire-old-requests"}
TASK_2 = "README, task 2: run_alone(name, ttl) in workit/locks.py, around each maintenance task"


def still_a_stub(task: str, result: Any) -> str:
    """A run that failed because its task is still the skeleton's: say so, not "the lock is wrong"."""
    if not isinstance(getattr(result, "result", None), NotImplementedError):
        return ""
    return (
        f"{task} is still the skeleton's stub ({result.result}). The lock is taken inside the "
        "maintenance tasks, so this test of task 2 passes only once they are written too "
        "(README, tasks 3 and 4): your run_alone may well be right. What it saw: "
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
        f"{task} lost its lock mid-run to another run, and at its end the key holds {client.get(KEYS[task])!r}: "
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
