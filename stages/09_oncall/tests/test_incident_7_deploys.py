"""Incident 7: after every deploy, a few emails arrive an hour late, or two.

A deploy stops each worker the way an orchestrator does: SIGTERM to the worker's main process,
then, WORKER_SHUTDOWN_GRACE seconds later, SIGKILL to whatever is left. The first tests ask the
Celery app what it makes of the grace. The last (`--integration`) deploys for real: the email
worker (`python -m workit.workers email`) is in the middle of a send, to a mail relay that takes
the connection and answers nothing, when the deploy comes. Then Redis says where the job is, and
the next release's worker, with a relay that answers, says whether the email goes out."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from kata.stack import eventually as wait_for

INCIDENT_7 = "README, incident 7 (https://docs.celeryq.dev/en/stable/userguide/workers.html#worker-shutdown)"
GRACE = 16.0  # seconds between this test's SIGTERM and its SIGKILL
VISIBILITY = 3600.0  # the app's: a job left in unacked comes back an hour later


def shutdown_of(app_config: dict, **config) -> tuple[object, object]:
    """What Celery is told: (a stopping worker's window for its running jobs, the visibility timeout)."""
    from workit import create_app

    celery = create_app({**app_config, **config}).extensions["celery"]
    try:
        return celery.conf.worker_soft_shutdown_timeout, celery.conf.broker_transport_options.get("visibility_timeout")
    finally:
        celery.close()


@pytest.mark.parametrize("grace", [30.0, 10.0])
def test_incident_7_a_stopping_worker_lets_its_jobs_finish_within_part_of_the_grace(app_config, grace):
    window, _ = shutdown_of(app_config, WORKER_SHUTDOWN_GRACE=grace)

    assert isinstance(window, (int, float)) and 0 < window <= grace - 3, (
        f"with WORKER_SHUTDOWN_GRACE={grace:g} (the seconds a deploy leaves between SIGTERM and SIGKILL), a "
        f"stopping worker lets its running jobs finish for {window!r} s before it cuts them short and hands "
        "them back (0: no such window). Expected more than 0, so that a job about to finish can (cut off, "
        "it is done again, and an email the relay already took goes out twice), and no more than the grace "
        "less a few seconds: handing the jobs back takes time too, and the SIGKILL does not wait. "
        f"{INCIDENT_7}."
    )


@pytest.mark.given
def test_incident_7_the_visibility_timeout_stays_longer_than_any_job(app_config):
    _, visibility = shutdown_of(app_config, WORKER_SHUTDOWN_GRACE=30.0, CELERY_VISIBILITY_TIMEOUT=VISIBILITY)

    assert visibility == VISIBILITY, (
        f"with CELERY_VISIBILITY_TIMEOUT={VISIBILITY:g} and WORKER_SHUTDOWN_GRACE=30, Redis hands a job out "
        f"again {visibility!r} s after a worker took it. Shorter than the slowest job (with its retries' waits) "
        "and a job that is only slow is handed out twice, to run twice, deploy or not: the visibility timeout "
        f"is what brings back a job whose worker vanished, not a way to stop a worker. {INCIDENT_7}."
    )


# --- a real deploy ---------------------------------------------------------------------------


def status_of(database: str, request_id: str) -> str | None:
    with sqlite3.connect(database, timeout=5) as connection:
        row = connection.execute("SELECT status FROM mailer_requests WHERE id = ?", (request_id,)).fetchone()
    return row[0] if row else None


@pytest.mark.integration
@pytest.mark.skipif(not hasattr(signal, "SIGKILL") or sys.platform == "win32", reason="a deploy's signals are POSIX ones")
@pytest.mark.timeout(300)
def test_incident_7_a_deploy_hands_the_email_in_progress_back_at_once(code_dir, stack_env, stack_logs, mail_inbox, tmp_path):
    import redis
    from celery import Celery

    from kata.stack import migrate_database, running, spawn, wait_until
    from kata.stack_fixtures import own_redis_process

    database = str(tmp_path / "workit.sqlite3")
    request_id = "kata-deploy-request-0000000000"
    command = [sys.executable, "-m", "workit.workers", "email", "--without-gossip", "--without-mingle"]
    with own_redis_process(stack_logs, "redis-deploy") as own_redis, socket.socket() as relay:
        # The mail relay on a slow day: the kernel takes the connection, nobody ever answers it.
        relay.bind(("127.0.0.1", 0))
        relay.listen(8)
        env = {
            **stack_env,
            "REDIS_URL": own_redis.url,
            "DATABASE_URL": f"sqlite:///{database}",
            "GIPHY_RATE_LIMIT": "",
            "WORKER_SHUTDOWN_GRACE": f"{GRACE:g}",
            "CELERY_VISIBILITY_TIMEOUT": f"{VISIBILITY:g}",
        }
        migrate_database(code_dir, env, stack_logs)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        with sqlite3.connect(database) as connection:
            connection.execute(
                "INSERT INTO mailer_requests (id, email, thought, status, gif_url, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (request_id, "buster@example.com", "I'm a monster", "ready", "https://media.giphy.com/media/kataMonster/200.gif", now, now),
            )
        slow_relay = {"MAIL_PORT": str(relay.getsockname()[1]), "MAIL_TIMEOUT": "600", "MAIL_TIME_LIMIT": "900"}
        broker = redis.Redis.from_url(own_redis.url)
        producer = Celery(broker=own_redis.url)
        try:
            # The release running now: its email worker is sending when the deploy begins.
            with running(spawn("email-worker-before-deploy", command, stack_logs, cwd=code_dir, env={**env, **slow_relay})) as old:
                wait_until(lambda: " ready." in old.output(), 60, "the email worker", old)
                producer.send_task("workit.tasks.send_randomness_email", args=[request_id], queue="email")
                sending = wait_for(lambda: status_of(database, request_id) == "sending", 60)
                assert sending, f"the email worker did not start the email within 60 s: {status_of(database, request_id)!r}{old.tail()}"

                # The deploy: SIGTERM to the worker, as an orchestrator stops a container; SIGKILL to
                # all that is left once the grace period is over.
                os.kill(old.process.pid, signal.SIGTERM)
                try:
                    old.process.wait(GRACE)
                    killed = False
                except subprocess.TimeoutExpired:
                    os.killpg(old.process.pid, signal.SIGKILL)
                    old.process.wait(10)
                    killed = True
                old_log = old.tail(12)
            queued, parked = int(broker.llen("email")), int(broker.hlen("unacked"))

            assert parked == 0 and queued == 1, (
                (
                    f"a deploy stopped the email worker in the middle of a send (SIGTERM; the relay was slow), and "
                    f"{GRACE:g} s later (WORKER_SHUTDOWN_GRACE) {'it was still waiting for that send, so the deploy killed it (SIGKILL)' if killed else 'it had stopped'}. "
                    f"The email's job is in Redis's unacked hash ({parked} there, {queued} in the queue email), where it stays "
                    f"until the visibility timeout ({VISIBILITY:g} s) hands it out again: that email an hour late, after "
                    "every deploy. A job the worker cannot finish within the grace must be back in its queue before the "
                    f"SIGKILL, for the next worker to take at once. {INCIDENT_7}.{old_log}"
                )
                if parked
                else (
                    f"a deploy stopped the email worker in the middle of a send, and its job is neither in the queue email "
                    f"({queued}) nor in Redis's unacked hash: it is gone, and the email with it. A job must stay in Redis "
                    f"until it is done, so that a job cut short comes back. {INCIDENT_7}.{old_log}"
                )
            )

            # The next release: a worker whose relay answers takes the job back.
            with running(spawn("email-worker-after-deploy", command, stack_logs, cwd=code_dir, env=env)) as new:
                wait_until(lambda: " ready." in new.output(), 60, "the next email worker", new)
                # Done once Redis holds the job nowhere (taken, run and acknowledged): then the email
                # has reached the relay, or never will.
                done = wait_for(lambda: broker.llen("email") == 0 and broker.hlen("unacked") == 0, 90)
                messages = mail_inbox.wait_for(1, timeout=20 if done else 1)
                if messages:
                    time.sleep(1.0)  # a second copy, if any, would come now
                    messages = mail_inbox.messages()
                status, new_log = status_of(database, request_id), new.tail(12)
        finally:
            producer.close()
            broker.close()

    assert done, f"the next email worker left the job in Redis for 90 s after the deploy: the request says {status!r}. {INCIDENT_7}.{new_log}"
    assert messages, (
        f"after the deploy the email's job was back in its queue, the next worker took it and was done with it, "
        f"and no email came: the request says {status!r}. A job handed back was cut short in the middle, and what its "
        "first run left behind must not stop the run that takes over: this email would wait for the "
        f"reconciler (RECONCILE_AFTER, two hours). {INCIDENT_7}.{new_log}"
    )
    assert len(messages) == 1, f"{len(messages)} emails arrived for one request after the deploy; expected one. {INCIDENT_7}."
