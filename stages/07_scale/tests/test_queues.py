"""Task 2: each task on its own queue, by configuration, so that a slow Giphy never holds up an
email whose GIF is already found."""

from __future__ import annotations

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
    send_randomness_email.delay(db.add(gif_url=GIF))

    assert list(queued()) == ["email"] and [task for task, _ in queued()["email"]] == [SEND, SEND], (
        f"the email's jobs, posted by the lookup and by a .delay() of the test, wait in {queued()}; "
        f"expected both in the queue 'email'. {TASK_2}: the route belongs in the config, so that every "
        "caller gets it."
    )


def test_an_email_goes_out_while_giphy_is_stuck_on_another_request(
    app, celery_of, database, workers, slow_giphy, inbox, wait_for_status, broker
):
    from workit.tasks import look_up_gif, send_randomness_email

    celery_of(app)
    db = database()
    stuck = db.add(thought="a very slow thought")
    ready = db.add(email="ready@example.com", gif_url=GIF)
    slow_giphy.held.add("a very slow thought")

    try:
        with workers(["email"]), task_failures() as failures:
            look_up_gif.delay(stuck)  # first in line; its Giphy will not answer
            send_randomness_email.delay(ready)
            status = wait_for_status(db, ready, ("sent", "failed"), timeout=30, failures=failures)
            # By the order of events, not by a clock: was the lookup still held at Giphy then?
            behind_the_lookup = slow_giphy.finished.is_set()
            slow_giphy.release()
    finally:
        slow_giphy.release()

    assert status == "sent" and not behind_the_lookup, (
        f"a lookup stuck at Giphy was posted first, then the email of a request whose GIF was found "
        f"already; with an email worker running, that request said {status!r}"
        f"{' only once the lookup had its answer' if behind_the_lookup else ''}; expected 'sent' while "
        "the lookup still waited. "
        f"On one queue, the email waits behind the lookup. {TASK_2}."
    )
