"""Incident 4: the email worker was up all night and sent nothing, and every probe said fine.

`GET /health/queues` is what the monitoring asks every minute. The tests give it requests
that wait in a queue, as the database and Redis hold them when no worker takes anything."""

from __future__ import annotations

import pytest

from kata.stack import eventually as wait_for

INCIDENT_4 = "README, incident 4 (celery#8030; https://docs.celeryq.dev/en/stable/userguide/monitoring.html)"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "QUEUE_MAX_WAIT": 120.0}


def probe(client) -> tuple[int, dict]:
    answer = client.get("/health/queues")
    return answer.status_code, (answer.get_json(silent=True) or {})


def post_emails(count: int, request_id: str) -> None:
    import workit.tasks

    for _ in range(count):
        workit.tasks.send_randomness_email.delay(request_id)


def test_incident_4_a_request_waiting_too_long_makes_the_probe_fail(app, celery_of, client, database, ago):
    celery_of(app)
    db = database()
    waiting = db.add(status="ready", gif_url=None, created_at=ago(minutes=45), updated_at=ago(minutes=40))
    post_emails(3, waiting)

    status, body = probe(client)
    assert status == 503, (
        f"a request has waited 40 minutes for a worker, 3 jobs wait in the queue email, and GET /health/queues "
        f"answered {status} {body}. A worker can be up, answer every ping and consume nothing (after Redis came "
        "back, say): only the work tells whether it gets done. The monitoring pages someone on a 503, so the "
        f"probe must fail when a request has waited longer than QUEUE_MAX_WAIT (120 s here). {INCIDENT_4}."
    )
    assert body.get("status") == "stuck" and body.get("queues", {}).get("email") == 3, (
        f"GET /health/queues answered {body}; expected \"status\": \"stuck\" and, in \"queues\", how many jobs "
        f"wait in each queue (3 in email): whoever is paged needs to see where. {INCIDENT_4}."
    )
    assert 40 * 60 - 5 <= float(body.get("oldest_wait_seconds", -1)) <= 40 * 60 + 60, (
        f"GET /health/queues answered {body}; the oldest request waiting for a worker has waited 40 minutes "
        f"(2400 s): \"oldest_wait_seconds\" says so, counted from the moment its row last moved. {INCIDENT_4}."
    )


def test_incident_4_the_wait_counts_from_when_the_request_last_moved(app, celery_of, client, database, ago):
    celery_of(app)
    db = database()
    # Made three hours ago; its lookup finished ten minutes ago, and it waits for the email worker.
    db.add(status="ready", created_at=ago(hours=3), updated_at=ago(minutes=10))

    status, body = probe(client)
    assert 600 - 5 <= float(body.get("oldest_wait_seconds", -1)) <= 600 + 60, (
        f"a request made three hours ago, queued for its email ten minutes ago: GET /health/queues answered "
        f"{status} {body}; expected \"oldest_wait_seconds\" about 600: it has waited for a worker ten minutes, "
        f"not three hours (the lookup before took its time, and that was no stuck queue). {INCIDENT_4}."
    )


def test_incident_4_done_and_busy_requests_are_not_waiting(app, celery_of, client, database, ago):
    celery_of(app)
    db = database()
    db.add(status="sent", created_at=ago(days=2), updated_at=ago(days=2))
    db.add(status="failed", error="We gave up.", created_at=ago(days=2), updated_at=ago(days=2))
    db.add(status="queued", created_at=ago(seconds=30), updated_at=ago(seconds=30))
    db.add(status="looking_up", created_at=ago(minutes=30), updated_at=ago(minutes=30))
    db.add(status="sending", created_at=ago(minutes=30), updated_at=ago(minutes=30))

    status, body = probe(client)
    assert status == 200 and body.get("status") == "ok", (
        f"requests sent or failed two days ago, one queued 30 s ago, two that a worker took 30 minutes ago (looking "
        f"up, sending): GET /health/queues answered {status} {body}; expected 200, \"ok\": a request that is done "
        "waits for nobody, and one a worker has taken waits for no worker (a slow job is another alarm). "
        f"{INCIDENT_4}."
    )
    assert body.get("queues") == {"giphy": 0, "email": 0, "maintenance": 0}, (
        f"nothing waits in Redis, and GET /health/queues says {body.get('queues')!r}; expected each queue a worker "
        f"reads, with 0. {INCIDENT_4}."
    )
    assert 25 <= float(body.get("oldest_wait_seconds", -1)) <= 120, (
        f"GET /health/queues says the oldest waiting request waited {body.get('oldest_wait_seconds')!r} s; the one "
        f"queued 30 s ago has. {INCIDENT_4}."
    )


def test_incident_4_the_limit_is_the_configured_one(app, celery_of, client, database, ago):
    celery_of(app)
    db = database()
    db.add(status="queued", created_at=ago(minutes=5), updated_at=ago(minutes=5))

    status, body = probe(client)
    assert status == 503, (
        f"with QUEUE_MAX_WAIT=120, a request has waited 5 minutes and GET /health/queues answered {status} {body}; "
        f"expected 503. {INCIDENT_4}."
    )


# --- the real thing: a worker that is up and consumes nothing ---------------------------------


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_incident_4_a_real_worker_that_consumes_nothing_fails_the_probe(code_dir, stack_env, stack_logs, mail_inbox, tmp_path):
    """A real worker and a real web app; the worker stops consuming the queue giphy (Celery's
    cancel_consumer: what the bug of celery#8030 leaves) and still answers every ping."""
    import sqlite3
    from datetime import datetime, timezone

    import requests
    from celery import Celery

    from kata.stack import migrate_database, web_service, worker_service

    database = str(tmp_path / "workit.sqlite3")
    env = {**stack_env, "DATABASE_URL": f"sqlite:///{database}", "GIPHY_RATE_LIMIT": "", "QUEUE_MAX_WAIT": "2"}
    migrate_database(code_dir, env, stack_logs)
    request_id = "kata-stuck-request-000000000000"

    def probe_now() -> tuple[int, dict]:
        answer = requests.get(f"{web.url}/health/queues", timeout=10)
        return answer.status_code, (answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {})

    with worker_service(code_dir, env, stack_logs) as worker, web_service(code_dir, env, stack_logs) as web:
        control = Celery(broker=env["REDIS_URL"])
        try:
            cancelled = control.control.cancel_consumer("giphy", reply=True, timeout=10)
            assert cancelled, f"the worker did not answer cancel_consumer{worker.tail()}"
            now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
            with sqlite3.connect(database) as connection:
                connection.execute(
                    "INSERT INTO mailer_requests (id, email, thought, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (request_id, "buster@example.com", "I'm a monster", "queued", now, now),
                )
            control.send_task("workit.tasks.look_up_gif", args=[request_id], queue="giphy")
            seen: list = []
            stuck = wait_for(lambda: seen.append(probe_now()) or seen[-1][0] == 503, 30)
            pongs = control.control.ping(timeout=5)
            assert pongs, f"the worker stopped answering pings{worker.tail()}"
            assert stuck, (
                f"a real worker answered every ping ({pongs}) and took nothing from the queue giphy for 30 s, with "
                f"QUEUE_MAX_WAIT=2; GET /health/queues answered {seen[-1]} all along. Up is not working: the probe "
                f"must fail when a request has waited too long for a worker. {INCIDENT_4}."
            )
            # The worker consumes again (a restart, in production): the request goes through, the probe is fine.
            control.control.add_consumer("giphy", reply=True, timeout=10)
            assert len(mail_inbox.wait_for(1, timeout=60)) == 1, f"no email after the worker consumed again{worker.tail()}"
            assert wait_for(lambda: probe_now()[0] == 200, 30), (
                f"the request was sent and GET /health/queues still answers {probe_now()}: once nothing waits, the "
                f"probe is fine again. {INCIDENT_4}."
            )
        finally:
            control.close()
