#> file 06-
"""The database: Flask-SQLAlchemy for the model, Flask-Migrate (Alembic) for the schema.

SQLite by default, in a file of the app's instance folder, so a learner needs no server;
DATABASE_URL points the app at another database (PostgreSQL in CI). The web app and the worker
#> extra 06
are two processes writing the same SQLite file: in WAL mode a writer does not block readers
(and Python's sqlite3 makes a second writer wait its turn, up to 5 s, instead of failing).
#> or todo 06
are two processes writing the same SQLite file (README, task 1).
#> end
"""

from __future__ import annotations

#> task 06.1
import os
#> end
from pathlib import Path
#> task 06.1
from typing import Any
#> end

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
#> task 06.1
from sqlalchemy import event
#> or extra 06

#> or stub 06.1

# NEW(06_status): given. The extensions, made once and bound to each app by init_db.
#> end
db = SQLAlchemy()
migrate = Migrate()

MIGRATIONS = str(Path(__file__).with_name("migrations"))  # `flask db upgrade` reads them here
DATABASE_FILE = "workit.sqlite3"  # in the instance folder, unless DATABASE_URL says otherwise


def engine_url(url: str) -> str:
    #> extra 06
    """SQLAlchemy's name for a URL: a plain postgresql:// URL is driven by psycopg (3)."""
    #> or todo 06
    """NEW(06_status): given. SQLAlchemy's name for a URL: postgresql:// is driven by psycopg (3)."""
    #> end
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def init_db(app: Flask) -> None:
    #> task 06.1
    url = app.config.get("DATABASE_URL") or default_url(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = engine_url(url)
    #> or extra 08
    # A database error (a locked file, a server gone) must not write the form's values into the
    # log: SQLAlchemy's errors quote the statement's parameters unless told to hide them.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "hide_parameters": True}
    #> or task 06.1
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    from workit import models  # noqa: F401  (the model's table joins db.metadata)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", sqlite_pragmas)


def default_url(app: Flask) -> str:
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, DATABASE_FILE)


def sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL is as safe against a crash of the app (only a power cut can lose the
    # last commits) and spares an fsync per commit: the form's request stays fast.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    #> or stub 06.1
    """Give `app` its database and its migrations (README, task 1)."""
    raise NotImplementedError("Step 06_status, task 1: write init_db(app) in workit/db.py")
    #> end
