"""Task 3: the table comes from a migration, as `flask db upgrade` (the kata's rake db:migrate)."""

from __future__ import annotations

from sqlalchemy import inspect

TASK_3 = "README, task 3: upgrade() and downgrade() in workit/migrations/versions/0001_mailer_requests.py"


def tables_in(app, db) -> set[str]:
    with app.app_context():
        db.session.remove()
        return set(inspect(db.engine).get_table_names())


def differences(app, db) -> list:
    """What Alembic's autogenerate would change to make the database match the model."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def test_flask_db_upgrade_makes_the_table_the_model_describes(app, the_db):
    db = the_db(app)

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, f"`flask db upgrade` ended with code {result.exit_code}:\n{result.output}"
    assert "mailer_requests" in tables_in(app, db), (
        f"`flask db upgrade` on a new database made the tables {sorted(tables_in(app, db))}; "
        f"expected mailer_requests. {TASK_3}."
    )
    diff = differences(app, db)
    assert diff == [], (
        "after `flask db upgrade`, the table and the model differ; Alembic would still change "
        f"{diff}. The migration makes the table the model describes: the same columns, types, "
        "lengths, nullability and primary key (`flask db migrate` on a scratch database writes a first draft: README, task 3)."
    )


def test_flask_db_downgrade_takes_the_table_away(app, the_db):
    db = the_db(app)
    runner = app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    assert "mailer_requests" in tables_in(app, db), f"`flask db upgrade` made no mailer_requests table. {TASK_3}."

    result = runner.invoke(args=["db", "downgrade", "base"])

    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "mailer_requests" not in tables_in(app, db), (
        f"`flask db downgrade base` left the mailer_requests table in place. {TASK_3}: "
        "downgrade() undoes what upgrade() did."
    )
