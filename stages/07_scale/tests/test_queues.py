"""Task 2: each task on its own queue, by configuration, so that a slow Giphy never holds up an
email whose GIF is already found."""

from __future__ import annotations

import time

from kata.broker import task_failures

LOOK_UP, SEND = "workit.tasks.look_up_gif", "workit.tasks.send_randomness_email"
FORM = {"mailers[email]": "buster@example.com", "mailers[thought]": "I'm a monster"}
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
TASK_2 = "README, task 2: task_routes in celery_init_app (workit/celery_app.py)"


def test_the_lookup_goes_to_the_giphy_queue(client, database, queued):
    db = database()

    client.post("/mailers", data=FORM)

    (row,) = db.rows()
    assert queued() == {"giphy": [(LOOK_UP, [row["id"]])]}, (
        f"the form's job waits in {queued()}; expected the lookup in the queue 'giphy', alone. "
        f"{TASK_2}: route each task to its queue by name, in the Celery config, not at each call."
    )


def test_the_email_goes_to_the_email_queue(app, celery_of, database, giphy, queued):
    from workit.tasks import look_up_gif, send_randomness_email

    celery_of(app)
    db = database()
    request_id = db.add()
    giphy.search_finds(GIF)

    look_up_gif.apply((request_id,))
    send_randomness_email.delay(db.add(gif_url=GIF, status="ready"))

    assert list(queued()) == ["email"] and [task for task, _ in queued()["email"]] == [SEND, SEND], (
        f"the email's jobs, posted by the lookup and by a .delay() of the test, wait in {queued()}; "
        f"expected both in the queue 'email'. {TASK_2}: the route belongs in the config, so that every "
        "caller gets it."
    )


def test_an_email_goes_out_while_giphy_is_stuck_on_another_request(app, celery_of, database, workers, slow_giphy, inbox, broker):
    from workit.tasks import look_up_gif, send_randomness_email

    celery_of(app)
    db = database()
    stuck = db.add(thought="a very slow thought")
    ready = db.add(email="ready@example.com", gif_url=GIF, status="ready")
    slow_giphy.held.add("a very slow thought")

    try:
        with workers(["email"]), task_failures() as failures:
            look_up_gif.delay(stuck)  # first in line; its Giphy will not answer
            send_randomness_email.delay(ready)
            unrouted = broker.client().llen("celery")
            # By the order of events, not by a clock: the email is sent, or the email worker
            # starts the stuck lookup (then the email waits behind it), or a job fails.
            deadline = time.monotonic() + 15
            while not unrouted and not failures and not slow_giphy.started.is_set() and time.monotonic() < deadline:
                if (db.row(ready) or {}).get("status") in ("sent", "failed"):
                    break
                time.sleep(0.01)
            behind_the_lookup = slow_giphy.started.is_set()
            status = (db.row(ready) or {}).get("status")
            slow_giphy.release()
    finally:
        slow_giphy.release()

    assert not unrouted, (
        f"{unrouted} job(s) wait in the queue 'celery', which no worker of this test reads: "
        f"the lookup belongs in 'giphy', the email's job in 'email'. {TASK_2}."
    )
    assert not behind_the_lookup, (
        "the email worker took the stuck lookup posted before the email: on one queue, the email "
        f"waits behind the lookup. {TASK_2}."
    )
    assert status == "sent", (
        f"a lookup stuck at Giphy was posted first, then the email of a request whose GIF was found "
        f"already; with an email worker running, that request said {status!r}; expected 'sent'. "
        f"{TASK_2}."
    )
