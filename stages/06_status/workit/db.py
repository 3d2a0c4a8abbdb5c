"""The database: Flask-SQLAlchemy for the model, Flask-Migrate (Alembic) for the schema.

SQLite by default, in a file of the app's instance folder, so a learner needs no server;
DATABASE_URL points the app at another database (PostgreSQL in CI). The web app and the worker
are two processes writing the same SQLite file (README, task 1).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

# NEW(06_status): given. The extensions, made once and bound to each app by init_db.
db = SQLAlchemy()
migrate = Migrate()

MIGRATIONS = str(Path(__file__).with_name("migrations"))  # `flask db upgrade` reads them here
DATABASE_FILE = "workit.sqlite3"  # in the instance folder, unless DATABASE_URL says otherwise


def engine_url(url: str) -> str:
    """NEW(06_status): given. SQLAlchemy's name for a URL: postgresql:// is driven by psycopg (3)."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def init_db(app: Flask) -> None:
    """Give `app` its database and its migrations (README, task 1)."""
    raise NotImplementedError("Step 06_status, task 1: write init_db(app) in workit/db.py")
