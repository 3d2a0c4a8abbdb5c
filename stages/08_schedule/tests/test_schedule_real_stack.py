"""The clock for real (`pytest stages/08_schedule --integration`): a real `celery beat` with a
one-second reconcile, a real worker on every queue, redis-server and maildump. A request was
left "queued" with no message (a message lost on the way); beat's reconcile finds it, the
worker sends its email, and beat's later runs send nothing more."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from kata.stack import beat_service, migrate_database, worker_service
from kata.stack import eventually as wait_for

pytestmark = pytest.mark.integration

REQUEST_ID = "kata-lost-request-0000000000000"
RECONCILE_SENT = "Sending due task reconcile-requests"
RECONCILE_DONE = "Task workit.maintenance.reconcile_requests"


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


WAITING_ID_QUERY = "SELECT id FROM mailer_requests WHERE email = 'waiting@example.com'"


def post_form(web: str, email: str) -> None:
    """POST the form as a browser does (the page's CSRF token, its cookie)."""
    import re

    import requests

    session = requests.Session()
    page = session.get(f"{web}/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    fields = {"mailers[email]": email, "mailers[thought]": "a job that waits", "csrf_token": token.group(1) if token else ""}
    answer = session.post(f"{web}/mailers", data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, f"POST /mailers answered {answer.status_code}: {answer.text[:300]}"


@pytest.mark.timeout(240)  # the services' start twice, a minute for the email, a minute for three more runs
def test_a_real_beat_beside_a_waiting_email_job_sends_it_once(code_dir, stack_env, stack_logs, mail_inbox, tmp_path):
    import sys

    import redis

    from kata.stack import StackError, running, spawn, wait_until, web_service

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
    client = redis.Redis.from_url(env["REDIS_URL"], socket_timeout=5)
    client.delete("giphy", "email")

    # The form, looked up by a giphy worker; no email worker: its email job waits in Redis.
    command = [sys.executable, "-m", "workit.workers", "giphy", "--without-gossip", "--without-mingle"]
    with web_service(code_dir, env, stack_logs) as web, running(spawn("worker-giphy", command, stack_logs, cwd=code_dir, env=env)) as giphy:
        try:
            wait_until(lambda: " ready." in giphy.output(), 30, "the giphy worker", giphy)
        except StackError as problem:
            raise AssertionError(f"`python -m workit.workers giphy` did not start: {problem}") from None
        post_form(web.url, "waiting@example.com")
        waiting = wait_for(lambda: client.llen("email") == 1, 30)
    assert waiting, f"the lookup did not post the email's job:\n{giphy.output()[-1500:]}"
    # Hours go by, the email worker still stopped: the row has not moved for longer than RECONCILE_AFTER.
    an_hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(database) as connection:
        (request_id,) = connection.execute(WAITING_ID_QUERY).fetchone()
        connection.execute("UPDATE mailer_requests SET updated_at = ? WHERE id = ?", (an_hour_ago, request_id))

    # Beat's reconcile and a worker on every queue (two pool processes) start together: the waiting
    # email job and the lookup reconcile posts again are two jobs for one request.
    with worker_service(code_dir, env, stack_logs, concurrency=2) as worker, beat_service(code_dir, env, stack_logs, tmp_path / "celerybeat-schedule") as beat:
        first = mail_inbox.wait_for(1, timeout=60)
        done = runs(worker.output())
        more = wait_for(lambda: runs(worker.output()) >= done + 3 and client.llen("email") == 0 and client.llen("giphy") == 0, 60)
        messages = mail_inbox.messages()
        with sqlite3.connect(database) as connection:
            (final,) = connection.execute("SELECT status FROM mailer_requests WHERE id = ?", (request_id,)).fetchone()

    assert first and more, (
        f"with beat and a worker running, {len(first)} email(s) after 60 s, and no three more reconcile runs with "
        f"the queues empty after another 60 s.\nbeat:\n{beat.output()[-1500:]}\nworker:\n{worker.output()[-2500:]}"
    )
    assert (len(messages), final) == (1, "sent"), (
        f"a request ready for an hour, its email job waiting in the queue 'email', met beat's reconcile and a worker "
        f"with two pool processes: {len(messages)} email(s) and the request says {final!r}; expected one email and "
        "'sent'. The job posted again and the one that waited are two jobs for one request: only the one whose "
        "claim moves the row may send. README, task 4, and step 07's task 6."
    )
