"""Task 4: late acks and a prefetch of one: a job waits in Redis, where any idle worker can take it,
rather than in the hands of a worker busy with a long one."""

from __future__ import annotations

import time

from kata.broker import task_failures

TASK_4 = "README, task 4: late acks on look_up_gif, and one job at a time for each worker slot"


def looked_up(db, request_id: str, timeout: float) -> bool:
    """Whether the request's lookup has put its GIF on the row within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (db.row(request_id) or {}).get("gif_url"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_short_lookup_is_not_stuck_behind_a_long_one(app, celery_of, database, slow_giphy, broker, worker_on):
    from workit.tasks import look_up_gif

    celery = celery_of(app)
    db = database()
    long_one = db.add(thought="a very slow thought")
    short_one = db.add(thought="a quick one")
    slow_giphy.held.add("a very slow thought")

    try:
        with worker_on(celery, ["giphy"], pool="threads", name="busy"), task_failures() as failures:
            look_up_gif.delay(long_one)
            assert not broker.client().llen("celery"), (
                "the lookup's job waits in the queue 'celery', which no worker of this test reads: "
                "it belongs in 'giphy' (README, task 2)."
            )
            assert slow_giphy.wait_started(failures), "the giphy worker never started the long lookup."
            look_up_gif.delay(short_one)
            # The busy worker's chance to take the short job, if it would: it is waiting on Redis.
            deadline = time.monotonic() + 0.5
            while broker.client().llen("giphy") and time.monotonic() < deadline:
                time.sleep(0.01)
            left_for_others = broker.client().llen("giphy")
            slow_giphy.release()
            both_done = looked_up(db, long_one, timeout=30) and looked_up(db, short_one, timeout=30)
    finally:
        slow_giphy.release()

    assert left_for_others == 1, (
        "a worker with one slot, busy with a long lookup, took the short lookup posted after it "
        "out of Redis, to hold it until the long one is done: an idle worker could have run it "
        f"meanwhile. {TASK_4}: with late acks and worker_prefetch_multiplier 1, a worker takes "
        "no job while its slot is busy."
    )
    assert both_done, "once the long lookup was let go, the worker did not finish both lookups."
