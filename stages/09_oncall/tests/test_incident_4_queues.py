"""Incident 4: the email worker was up all night and sent nothing, and every probe said fine.

`GET /health/queues` is what the monitoring asks every minute. The tests give it requests
that wait in a queue, as the database and Redis hold them when no worker takes anything."""

from __future__ import annotations

import pytest

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
    waiting = db.add(status="queued", gif_url=None, created_at=ago(minutes=45), updated_at=ago(minutes=40))
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
    db.add(status="queued", created_at=ago(hours=3), updated_at=ago(minutes=10))

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

    status, body = probe(client)
    assert status == 200 and body.get("status") == "ok", (
        f"requests sent or failed two days ago, and one queued 30 s ago: GET /health/queues answered {status} "
        f"{body}; expected 200, \"ok\": a request that is done waits for nobody. {INCIDENT_4}."
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
