"""NEW(06_status): given. Alembic's environment for Flask-Migrate: the app's engine and the model's metadata.

`flask --app workit db upgrade` runs the scripts in versions/ that the database has not seen
yet, in order, and records the last one in its alembic_version table. Unlike the env.py that
`flask db init` writes, this one leaves the logging configuration alone (a test's or the
worker's log handlers stay as they are).
"""

from __future__ import annotations

from alembic import context
from flask import current_app

config = context.config
db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=db.metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
