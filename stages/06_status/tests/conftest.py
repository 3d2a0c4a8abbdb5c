"""Stage 06's apps get a Celery broker and a database of their own, a SQLite file per test.

The database tests of tasks 1 to 3 (test_database*.py, SQLite's own settings aside) run twice
where PostgreSQL's initdb is installed: on SQLite, and on a database of their own in a
PostgreSQL the session starts once (kata.stack.postgres_service). Mistakes that only break on
PostgreSQL (a driver the kata does not install, SQLite's PRAGMAs sent to every database, times
stored without their zone) fail there.

`database(app)` checks that create_app gave the app its database (README, task 1) and its model
(task 2), makes the table from the model, and returns a `Database` that looks at the rows as
another process would: through a connection of its own, seeing committed rows only.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
TASK_1 = "README, task 1: init_db(app) in workit/db.py, called by create_app"
TASK_2 = "README, task 2: the MailerRequest model in workit/models.py"


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "workit-test.sqlite3"


EVERY_DATABASE = ("test_database.py", "test_database_model.py", "test_database_table.py")
SQLITE_ONLY = ("wal", "sqlite", "without_database_url")  # in a test's name: SQLite's own settings


def databases() -> list[str]:
    from kata.stack import postgres_binaries

    return ["sqlite"] + (["postgresql"] if postgres_binaries() else [])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The database tests of tasks 1-3 run on every database installed here."""
    if (
        "database_url" in metafunc.fixturenames
        and metafunc.definition.path.name in EVERY_DATABASE
        and not any(word in metafunc.definition.name for word in SQLITE_ONLY)
    ):
        metafunc.parametrize("database_url", databases(), indirect=True)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One PostgreSQL for the session, on a free port; its URL (of the `postgres` database)."""
    from kata.stack import postgres_service

    with postgres_service(tmp_path_factory.mktemp("postgres-logs")) as url:
        yield url


@pytest.fixture
def database_url(request: pytest.FixtureRequest, database_file: Path) -> Iterator[str]:
    """The test's own database: a SQLite file, or a new database in the session's PostgreSQL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{database_file}"
        return
    import psycopg

    server = request.getfixturevalue("postgres_server")
    name = f"kata_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} STRATEGY FILE_COPY")
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def app_config(app_config: dict[str, Any], celery_app_config: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**app_config, **celery_app_config, "DATABASE_URL": database_url}


def the_model() -> Any:
    from workit import models

    model = getattr(models, "MailerRequest", None)
    assert model is not None, f"workit.models has no MailerRequest class yet: {TASK_2}."
    return model


def _the_db(app: Any) -> Any:
    assert "sqlalchemy" in app.extensions, (
        f"create_app(...) gave an app with no database: app.extensions has no 'sqlalchemy'. {TASK_1}: "
        "it hands the app to Flask-SQLAlchemy's `db` (workit/db.py)."
    )
    from workit.db import db

    return db


@dataclass
class Database:
    """The test's view of the app's database: rows made by the model, read over a connection of
    the test's own (committed rows only, as the worker would see them)."""

    app: Any
    file: Path
    model: Any
    made: list[str] = field(default_factory=list)
    url: str = ""  # DATABASE_URL: a PostgreSQL one is read over psycopg, any other is the SQLite file

    def connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.file, timeout=5)
        connection.row_factory = sqlite3.Row
        return connection

    def _select(self, where: str = "", *values: Any) -> list[dict[str, Any]]:
        query = f"SELECT * FROM mailer_requests {where} ORDER BY created_at"
        if self.url.startswith("postgresql"):
            import psycopg
            from psycopg.rows import dict_row

            with psycopg.connect(self.url, row_factory=dict_row) as connection:
                return list(connection.execute(query.replace("?", "%s"), values))
        with self.connect() as connection:
            return [dict(row) for row in connection.execute(query, values)]

    def rows(self) -> list[dict[str, Any]]:
        return self._select()

    def row(self, request_id: str) -> dict[str, Any] | None:
        found = self._select("WHERE id = ?", request_id)
        return found[0] if found else None

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
    db = _the_db(app)
    model = the_model()
    with app.app_context():
        db.create_all()
    return Database(app, database_file, model, url=app.config.get("DATABASE_URL") or "")


@pytest.fixture(name="database")
def database_fixture(app: Any, database_file: Path) -> Callable[[], Database]:
    """`database()`, called in the test: the app's database with its table, see Database."""
    return lambda: database(app, database_file)


@pytest.fixture
def the_db() -> Callable[[Any], Any]:
    """`the_db(app)`: Flask-SQLAlchemy's `db`, once create_app has given it the app (task 1)."""
    return _the_db


@dataclass
class JobRun:
    """One job run to its end with `.apply()` (every retry at once), and what its row said."""

    state: str
    error: BaseException | None
    retries: int
    statuses_at_retry: list[str | None]


@pytest.fixture
def run_job(app: Any, celery_of: Callable[[Any], Any], database_file: Path) -> Callable[[str], JobRun]:
    """`run_job(request_id)`: send_randomness_email(request_id) run here, retries and all."""
    celery_of(app)

    def run(request_id: str) -> JobRun:
        from celery.signals import task_retry

        from workit.tasks import send_randomness_email

        task_id = str(uuid.uuid4())
        statuses: list[str | None] = []

        def remember(sender: Any = None, request: Any = None, **_: Any) -> None:
            if request is not None and request.id == task_id:
                with sqlite3.connect(database_file, timeout=5) as connection:
                    found = connection.execute(
                        "SELECT status FROM mailer_requests WHERE id = ?", (request_id,)
                    ).fetchone()
                statuses.append(found[0] if found else None)

        task_retry.connect(remember, weak=False)
        try:
            result = send_randomness_email.apply((request_id,), task_id=task_id)
        except RecursionError:
            raise AssertionError(
                f"the job retried {len(statuses)} times and was still going: it retries forever."
            ) from None
        finally:
            task_retry.disconnect(remember)
        error = result.result if result.state == "FAILURE" else None
        return JobRun(result.state, error, len(statuses), statuses)

    return run


# --- the browser (integration tier) --------------------------------------------------------

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]


@pytest.fixture
def browser_page() -> Any:
    """A page of a headless Chromium. No Chromium here: the test is skipped, and the run's last
    lines say so (kata.services); under KATA_REQUIRE_SERVICES=1 (CI), it fails."""
    from kata.services import chromium_path, missing

    executable = chromium_path()
    if executable is None:
        missing("chromium", "the status page's test drives a headless Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()
