"""Task 1: the app gets a database, SQLite in WAL mode by default."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

TASK_1 = "README, task 1: init_db(app) in workit/db.py, called by create_app"


def usable_app(app_config, database_url, the_db):
    """create_app(app_config), whose database answers a first query; else a failure saying why."""
    from workit import create_app

    try:
        app = create_app(app_config)
        db = the_db(app)
        with app.app_context():
            db.session.execute(text("SELECT 1"))
            db.session.remove()
    except (AssertionError, NotImplementedError):
        raise
    except Exception as error:
        said = " ".join(str(error).split())[:300]
        hint = ""
        if isinstance(error, ImportError):
            hint = (
                " SQLAlchemy loaded a database driver this kata does not install: the URL it "
                "gets names the driver, and a plain postgresql:// names a default one. README, "
                "task 1 gives you engine_url for that."
            )
        elif "pragma" in said.lower():
            hint = (
                " PRAGMA is SQLite's alone: on PostgreSQL it is a syntax error. SQLite's settings "
                "go to SQLite connections only (README, task 1)."
            )
        raise AssertionError(
            f"with DATABASE_URL={database_url}, the app could not use its database: "
            f"{type(error).__name__}: {said}.{hint}"
        ) from error
    return app


def test_create_app_gives_the_app_its_database_and_migrations(app_config, database_url, the_db):
    app = usable_app(app_config, database_url, the_db)

    assert "migrate" in app.extensions, (
        f"the app has a database but no migrations: app.extensions has no 'migrate'. {TASK_1}: "
        "hand the app and the database to Flask-Migrate's `migrate` too, with the migrations "
        "folder workit/db.py names (MIGRATIONS)."
    )
    directory = Path(app.extensions["migrate"].directory)
    from workit.db import MIGRATIONS

    assert directory == Path(MIGRATIONS), (
        f"Flask-Migrate looks for migrations in {str(directory)!r}; expected {MIGRATIONS!r}, the "
        "folder inside the workit package, so `flask db upgrade` works from any directory."
    )
    url = app.config.get("SQLALCHEMY_DATABASE_URI", "")
    assert database_url.split("://", 1)[1] in url, (
        f"the test set DATABASE_URL={database_url}, and the app's database is {url!r}: "
        "DATABASE_URL, when it is set, says where the database is."
    )


def test_without_database_url_the_database_is_a_file_in_the_instance_folder(app_config, the_db):
    from workit import create_app

    app = create_app({key: value for key, value in app_config.items() if key != "DATABASE_URL"})
    the_db(app)

    url = app.config.get("SQLALCHEMY_DATABASE_URI", "")
    where = Path(url.removeprefix("sqlite:///"))
    assert url.startswith("sqlite:///") and where.parent == Path(app.instance_path), (
        f"with no DATABASE_URL the app's database is {url!r}; expected a SQLite file in the "
        f"app's instance folder ({app.instance_path}), so a learner needs no database server. {TASK_1}."
    )
    assert Path(app.instance_path).is_dir(), (
        f"the database file goes in {app.instance_path}, but that folder does not exist: SQLite "
        "makes the file, not the folder. Make it."
    )


def test_wal_mode_holds_on_a_database_file_made_elsewhere(app, database_file, the_db):
    db = the_db(app)
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    # The file is replaced by one in SQLite's default mode: restored from a backup, made by
    # another tool, or a new file once the old one was deleted.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database_file}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(database_file) as other:
        other.execute("CREATE TABLE made_elsewhere (x INTEGER)")
        before = other.execute("PRAGMA journal_mode").fetchone()[0]
    other.close()

    with app.app_context():
        mode = db.session.execute(text("PRAGMA journal_mode")).scalar()
    assert str(mode).lower() == "wal", (
        f"the database file was replaced by one in journal mode {before!r}, and the app's next "
        f"connection to it is in mode {mode!r}; expected 'wal'. WAL was set once, on the file "
        f"of that moment, not on each connection the app makes. {TASK_1}."
    )


def test_sqlite_runs_in_wal_mode_and_waits_for_a_busy_database(app, database_file, the_db):
    db = the_db(app)

    with app.app_context():
        mode = db.session.execute(text("PRAGMA journal_mode")).scalar()
        busy = db.session.execute(text("PRAGMA busy_timeout")).scalar()
    assert str(mode).lower() == "wal", (
        f"the app's SQLite connections are in journal mode {mode!r}; expected 'wal'. Without it a "
        "worker writing a status blocks the web app reading one, and the other way round. Set "
        f"the mode on every new connection. {TASK_1} (SQLAlchemy's pool events)."
    )
    with sqlite3.connect(database_file) as other:
        on_disk = other.execute("PRAGMA journal_mode").fetchone()[0]
    assert on_disk == "wal", f"the database file is in journal mode {on_disk!r}; expected 'wal'."
    assert int(busy or 0) >= 1000, (
        f"the app's SQLite connections wait {busy!r} ms for a database another process is "
        "writing; expected at least 1000 (PRAGMA busy_timeout; Python's sqlite3 waits 5 s "
        "unless told otherwise): with 0, the web app and the worker writing at the same moment "
        "get 'database is locked' at once."
    )
