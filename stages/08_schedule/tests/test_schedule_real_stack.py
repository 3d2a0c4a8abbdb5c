"""The clock for real (`pytest stages/08_schedule --integration`): a real `celery beat` with a
one-second reconcile, a real worker on every queue, redis-server and maildump. A request was
left "queued" with no message (a message lost on the way); beat's reconcile finds it, the
worker sends its email, and beat's later runs send nothing more."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest

from kata.stack import beat_service, migrate_database, worker_service

pytestmark = pytest.mark.integration

REQUEST_ID = "kata-lost-request-0000000000000"
RECONCILE_SENT = "Sending due task reconcile-requests"
RECONCILE_DONE = "Task workit.maintenance.reconcile_requests"


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def runs(output: str) -> int:
    """How many reconcile runs the worker finished."""
    return sum(RECONCILE_DONE in line and "succeeded" in line for line in output.splitlines())


def lost_request(database: str) -> None:
    """A request that says queued, its row still for an hour, and no message anywhere."""
    an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO mailer_requests (id, email, thought, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            (REQUEST_ID, "lost@example.com", "a message lost on the way", "queued", an_hour_ago, an_hour_ago),
        )


def status(database: str) -> str:
    with sqlite3.connect(database) as connection:
        return str(connection.execute("SELECT status FROM mailer_requests WHERE id = ?", (REQUEST_ID,)).fetchone()[0])


@pytest.mark.timeout(240)  # the services' start, a minute for the email, a minute for three more runs
def test_a_real_beat_finds_a_lost_request_and_it_is_sent_once(code_dir, stack_env, stack_logs, mail_inbox, tmp_path):
    database = str(tmp_path / "workit.sqlite3")
    env = {
        **stack_env,
        "DATABASE_URL": f"sqlite:///{database}",
        "GIPHY_RATE_LIMIT": "",
        "RECONCILE_EVERY": "1",
        "RECONCILE_AFTER": "5",
        "MAINTENANCE_LOCK_TTL": "10",
    }
    migrate_database(code_dir, env, stack_logs)
    lost_request(database)

    with worker_service(code_dir, env, stack_logs) as worker, beat_service(code_dir, env, stack_logs, tmp_path / "celerybeat-schedule") as beat:
        messages = mail_inbox.wait_for(1, timeout=60)
        assert len(messages) == 1, (
            f"a request left queued with no message: {len(messages)} email(s) after 60 s with beat and a worker "
            f"running; the request says {status(database)!r}.\nbeat:\n{beat.output()[-1500:]}\nworker:\n{worker.output()[-2500:]}"
        )
        sent, done = beat.output().count(RECONCILE_SENT), runs(worker.output())
        more = wait_for(
            lambda: beat.output().count(RECONCILE_SENT) >= sent + 3 and runs(worker.output()) >= done + 3,
            60,
        )
        assert more, f"beat did not go on sending reconcile-requests (or the worker running it):\n{beat.output()[-1500:]}"
        messages = mail_inbox.messages()

    assert (len(messages), status(database)) == (1, "sent"), (
        f"after three more reconcile runs, {len(messages)} email(s) and the request says {status(database)!r}; "
        "expected one email and 'sent': a request is posted again once, and a sent one never again."
    )
    assert "unregistered task" not in worker.output().lower(), "the worker does not know the maintenance tasks (Celery's include)"
