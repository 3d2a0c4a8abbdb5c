"""Fixtures of the stages with two chained jobs (07 on): a database per test, real workers per queue.

A stage's tests/conftest.py imports them (`from kata.chained_fixtures import *`), so they apply
to that stage only: its apps get a Celery broker, a database of their own (a SQLite file per
test), and the app's own Celery settings under the tests' (prefetch, late acks).

`database()` makes the table and returns a `Database` that looks at the rows as another
process would: through a connection of its own, seeing committed rows only. `workers(...)`
runs real Celery workers in this process, each reading the queues it is given.
"""


from __future__ import annotations

import functools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "EMAIL",
    "GIF",
    "THOUGHT",
    "Database",
    "SlowGiphy",
    "ago",
    "app_config",
    "database",
    "database_file",
    "database_fixture",
    "giphy_hold_seconds",
    "maintenance",
    "queued",
    "slow_giphy",
    "tasks_run",
    "wait_for_status",
    "worker_on",
    "worker_on_fixture",
    "worker_shutdown_timeout",
    "workers",
]

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "workit-test.sqlite3"


@pytest.fixture
def app_config(app_config: dict[str, Any], celery_app_config: dict[str, Any], database_file: Path) -> dict[str, Any]:
    from workit.config import from_environment

    celery = {**from_environment({})["CELERY"], **celery_app_config["CELERY"]}
    # The workers of these tests run in the test process, beside the fake Redis they talk to
    # (one GIL for all of them): on a busy machine its reply to a worker's ack or publish can
    # take longer than the app's fail-fast 0.3 s, made for a web request beside a real Redis.
    celery["broker_transport_options"] = {
        **celery.get("broker_transport_options", {}),
        "socket_timeout": 10.0,
        "socket_connect_timeout": 10.0,
    }
    # No rate limit in the tests unless a test sets one: 100/h would hold a second lookup 36 s.
    return {
        **app_config,
        **celery_app_config,
        "CELERY": celery,
        "DATABASE_URL": f"sqlite:///{database_file}",
        "GIPHY_RATE_LIMIT": None,
    }




@dataclass
class Database:
    """The test's view of the app's database: rows made by the model, read over a connection of
    the test's own (committed rows only, as the worker would see them)."""

    app: Any
    file: Path
    model: Any
    made: list[str] = field(default_factory=list)

    def connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.file, timeout=5)
        connection.row_factory = sqlite3.Row
        return connection

    def rows(self) -> list[dict[str, Any]]:
        with self.connect() as connection:
            return [dict(row) for row in connection.execute("SELECT * FROM mailer_requests ORDER BY created_at")]

    def row(self, request_id: str) -> dict[str, Any] | None:
        with self.connect() as connection:
            found = connection.execute("SELECT * FROM mailer_requests WHERE id = ?", (request_id,)).fetchone()
        return dict(found) if found is not None else None

    def add(self, email: str = EMAIL, thought: str = THOUGHT, **columns: Any) -> str:
        """A committed request, made with the app's model; its id."""
        db = self.app.extensions["sqlalchemy"]
        with self.app.app_context():
            record = self.model(email=email, thought=thought, **columns)
            db.session.add(record)
            db.session.commit()
            self.made.append(record.id)
            return str(record.id)


def database(app: Any, database_file: Path) -> Database:
    from workit.db import db
    from workit.models import MailerRequest

    with app.app_context():
        db.create_all()
    return Database(app, database_file, MailerRequest)


@pytest.fixture(name="database")
def database_fixture(app: Any, database_file: Path) -> Callable[[], Database]:
    """`database()`, called in the test: the app's database with its table, see Database."""
    return lambda: database(app, database_file)


def _wait_for_status(
    db: Database, request_id: str, statuses: tuple[str, ...], timeout: float = 10.0, failures: list[Any] | None = None
) -> str | None:
    """The request's status once it is one of `statuses`, or a task has failed (into `failures`,
    from kata.broker.task_failures), or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        row = db.row(request_id)
        status = row["status"] if row else None
        if status in statuses or failures or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


@contextmanager
def worker_on(
    celery_app: Any, queues: list[str], pool: str = "solo", concurrency: int = 1, name: str = "", shutdown_timeout: float = 5
) -> Iterator[Any]:
    """A real Celery worker in this process, reading only `queues`."""
    from celery.contrib.testing.worker import start_worker
    from kombu.asynchronous import get_event_loop, set_event_loop

    # Celery gives a new worker the process's current event loop if there is one: a second
    # worker in this process would poll the first one's sockets from its own thread, and one
    # thread's read would take the reply the other was waiting for (a lost BRPOP reply, a
    # "connection lost", a job redelivered). Each worker here gets a loop of its own.
    previous = get_event_loop()
    set_event_loop(None)
    try:
        with start_worker(
            celery_app,
            pool=pool,
            concurrency=concurrency,
            queues=queues,
            hostname=f"{name or '-'.join(queues)}-{uuid.uuid4().hex[:6]}@kata",
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=shutdown_timeout,
        ) as worker:
            yield worker
    finally:
        set_event_loop(previous)


@pytest.fixture
def worker_shutdown_timeout() -> float:
    """Seconds a worker of the test gets to stop (a stage's conftest may ask for more)."""
    return 5


@pytest.fixture
def giphy_hold_seconds() -> float:
    """The longest a held search of `slow_giphy` waits for its release (a stage may ask for more)."""
    return 15


@pytest.fixture(name="worker_on")
def worker_on_fixture(worker_shutdown_timeout: float) -> Callable[..., Any]:
    """`with worker_on(celery_app, ["giphy"], pool="threads"):` one real worker, those queues only."""
    return functools.partial(worker_on, shutdown_timeout=worker_shutdown_timeout)


@pytest.fixture
def workers(app: Any, celery_of: Callable[[Any], Any], worker_shutdown_timeout: float) -> Iterator[Callable[..., Any]]:
    """`with workers(["giphy"], ["email"]):` real workers in this process, one per list of queues."""
    celery = celery_of(app)

    @contextmanager
    def running(*queue_lists: list[str], pool: str = "solo") -> Iterator[None]:
        with ExitStack() as stack:
            for queues in queue_lists:
                stack.enter_context(worker_on(celery, queues, pool=pool, shutdown_timeout=worker_shutdown_timeout))
            yield

    yield running
    celery.pool.force_close_all()


@pytest.fixture
def tasks_run() -> Iterator[list[str]]:
    """The names of the tasks that workers start during the test, in order."""
    from celery.signals import task_prerun

    names: list[str] = []

    def remember(sender: Any = None, **_: Any) -> None:
        names.append(getattr(sender, "name", str(sender)))

    task_prerun.connect(remember, weak=False)
    yield names
    task_prerun.disconnect(remember)


@pytest.fixture
def wait_for_status() -> Callable[..., str | None]:
    """`wait_for_status(db, request_id, ("sent", "failed"))`: the status once it is one of them."""
    return _wait_for_status


@pytest.fixture
def queued(broker: Any) -> Callable[[], dict[str, list[tuple[str, list[Any]]]]]:
    """`queued()`: what waits in each queue of the broker, as (task, args); empty queues left out."""

    def look() -> dict[str, list[tuple[str, list[Any]]]]:
        found = {}
        for queue in ("celery", "giphy", "email", "maintenance"):
            messages = [(m.task, m.args) for m in broker.queued(queue)]
            if messages:
                found[queue] = messages
        return found

    return look


@pytest.fixture
def slow_giphy(giphy: Any, giphy_hold_seconds: float) -> Iterator[Any]:
    """Giphy whose search for a thought in `slow_giphy.held` waits until `slow_giphy.release()`;
    any other search finds GIF at once. `slow_giphy.started` is set when a held search begins,
    and `slow_giphy.statuses` is what the request's row said during each search."""
    yield from _slow_giphy(giphy, giphy_hold_seconds)


@dataclass
class SlowGiphy:
    held: set[str] = field(default_factory=set)
    started: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)
    watch: Callable[[str], None] | None = None
    raise_in_search: BaseException | None = None

    def release(self) -> None:
        self.opened.set()

    def wait_started(self, failures: list[Any], timeout: float = 10.0) -> bool:
        """Whether a held search has begun, before a task failed (kata.broker.task_failures)."""
        deadline = time.monotonic() + timeout
        while not self.started.is_set() and not failures and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.started.is_set()


def _slow_giphy(giphy: Any, hold_seconds: float) -> Iterator[SlowGiphy]:
    import json

    from kata.giphy import SEARCH_URL, search_body

    slow = SlowGiphy()

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(request.url).query).get("q", [""])[0]
        if slow.watch is not None:
            slow.watch(query)
        if slow.raise_in_search is not None:
            raise slow.raise_in_search
        if query in slow.held:
            slow.started.set()
            slow.opened.wait(hold_seconds)
        return 200, {"Content-Type": "application/json"}, json.dumps(search_body(GIF))

    giphy.mock.add_callback("GET", SEARCH_URL, callback=answer)
    try:
        yield slow
    finally:
        slow.release()


def _ago(**delta: float) -> Any:
    from datetime import datetime, timedelta, timezone

    return datetime.now(timezone.utc) - timedelta(**delta)


@pytest.fixture
def ago() -> Callable[..., Any]:
    """`ago(days=40)`: a moment in the past, in UTC. Rows are made old by writing it through the model."""
    return _ago


@pytest.fixture
def maintenance(app: Any, celery_of: Callable[[Any], Any]) -> Callable[[str], Any]:
    """`maintenance("reconcile_requests")`: that task of workit/maintenance.py, run here (.apply())."""
    celery_of(app)

    def run(name: str) -> Any:
        import workit.maintenance

        return getattr(workit.maintenance, name).apply()

    return run
