"""Incident 1: Redis grows by the day. A real worker runs one request's two jobs (the lookup, then
the email), here over the test's Redis; then the test looks at every database of that Redis for
what the jobs left behind."""

from __future__ import annotations

import threading

import pytest

INCIDENT_1 = "README, incident 1 (celery#7801; https://docs.celeryq.dev/en/stable/userguide/tasks.html#result-backends)"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
RESULT_KEYS = "celery-task-meta-*"


def left_behind(broker) -> dict[str, int]:
    """Each result key in any of Redis's 16 databases, with its time to live (-1: for ever)."""
    import fakeredis

    found = {}
    for number in range(16):
        client = fakeredis.FakeRedis(server=broker.server, db=number)
        for key in client.scan_iter(RESULT_KEYS):
            found[f"db {number}: {key.decode()}"] = int(client.ttl(key))
    return found


@pytest.mark.timeout(180)  # with results stored, the workers take their time to stop
def test_incident_1_a_request_leaves_nothing_behind_in_redis(app, celery_of, database, workers, broker, giphy, inbox):
    from celery.signals import task_postrun

    import workit.tasks

    celery_of(app)
    db = database()
    giphy.search_finds(GIF)
    request_id = db.add()
    done = threading.Event()

    def finished(sender=None, **_):
        if getattr(sender, "name", "").endswith("send_randomness_email"):
            done.set()

    task_postrun.connect(finished, weak=False)
    try:
        with workers(["giphy"], ["email"]):
            workit.tasks.look_up_gif.delay(request_id)
            assert done.wait(90), f"the request's two jobs did not both run within 90 s: it says {db.row(request_id)['status']!r}. {INCIDENT_1}."
    finally:
        task_postrun.disconnect(finished)

    keys = left_behind(broker)
    assert not keys, (
        f"one request left {len(keys)} key(s) in Redis after its jobs were done: {keys} (a time to live of -1 "
        "is for ever). Every job leaves its return value behind, and nothing in the app ever reads one: the "
        "status page reads the request's row. A million requests later Redis, the broker, is out of memory. "
        "Moving them elsewhere or keeping them a while only delays the day. "
        f"{INCIDENT_1}."
    )
