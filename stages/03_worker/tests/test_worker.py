"""`.delay()` leaves a message in Redis; a real Celery worker takes it and sends the email."""

from __future__ import annotations

from kata.broker import task_failures, wait_for_email_or_failure
from workit.tasks import send_randomness_email

NAME = "workit.tasks.send_randomness_email"
EMAIL = "george-michael@example.com"
THOUGHT = "there's always money in the banana stand"
GIF = "https://media.giphy.com/media/kataBananaStand/200.gif"
EAGER = (
    "task_always_eager is on: .delay() runs the task on the spot, with no queue and no "
    "worker. Celery's own testing guide calls eager mode \"by definition not suitable for "
    "unit tests\": it only emulates a worker. Leave it off; these tests run a real worker."
)


def delay(celery) -> None:
    """send_randomness_email.delay(EMAIL, THOUGHT), failing clearly when it cannot queue."""
    from kombu.exceptions import OperationalError

    eager = celery.conf.task_always_eager
    assert not eager, EAGER
    assert hasattr(send_randomness_email, "delay"), (
        "workit.tasks.send_randomness_email is a plain function, with no .delay(): make it "
        "a Celery task (README, task 3)."
    )
    owner = send_randomness_email.app
    assert owner is celery, (
        f"send_randomness_email belongs to the Celery app {owner!r}, not to the one create_app "
        f"made, {celery!r}: the task must belong to whichever Celery app the latest create_app "
        "made (README, task 3)."
    )
    try:
        send_randomness_email.delay(EMAIL, THOUGHT)
    except OperationalError as error:
        raise AssertionError(
            f".delay() could not reach the broker {celery.conf.broker_url!r} ({error}). The "
            "test's Redis is at app.config['REDIS_URL']: make it the Celery app's broker_url."
        ) from error


def queued(broker) -> list[tuple[str, list, dict]]:
    """(task name, args, kwargs) of each message waiting in the `celery` list, oldest first."""
    try:
        messages = broker.queued()
    except (ValueError, LookupError) as error:
        raise AssertionError(
            f"the `celery` list in Redis holds a message that is not a JSON task message "
            f"({type(error).__name__}: {error}). Keep Celery's default serializer, json."
        ) from error
    return [(m.task, m.args, m.kwargs) for m in messages]


def test_delay_leaves_one_message_in_the_redis_queue(app, celery_of, broker, giphy, inbox):
    giphy.search_finds(GIF)
    celery = celery_of(app)

    delay(celery)

    waiting = queued(broker)
    expected = [(NAME, [EMAIL, THOUGHT], {})]
    assert waiting == expected, (
        f"after send_randomness_email.delay({EMAIL!r}, {THOUGHT!r}) the `celery` list in Redis "
        f"holds {waiting!r} (task, args, kwargs); expected one message, {expected!r}: the "
        "task's name and its two strings, just like the job you queued by hand in step 02."
    )
    assert inbox.deliveries == [], (
        f".delay() already sent {len(inbox.deliveries)} email(s); expected none yet: .delay() "
        "only leaves a message in Redis. Sending is the worker's job."
    )


def test_a_worker_takes_the_message_and_sends_the_email(
    app, celery_of, broker, giphy, inbox, run_worker
):
    giphy.search_finds(GIF)
    celery = celery_of(app)
    delay(celery)
    assert len(queued(broker)) == 1 and inbox.deliveries == [], (
        f"after .delay(), before any worker ran, Redis holds {queued(broker)!r} and the inbox "
        f"{len(inbox.deliveries)} email(s); expected one waiting message and no email yet."
    )

    with task_failures() as failures, run_worker(celery):
        wait_for_email_or_failure(inbox, failures, timeout=5)

    assert not failures, (
        f"the worker ran the task, and it raised {type(failures[0]).__name__}: {failures[0]}"
        + (
            " A worker has no request, so the task needs the app context its task class "
            "gives it: README, task 2."
            if "application context" in str(failures[0])
            else ""
        )
    )
    deliveries = inbox.deliveries
    assert [d.rcpt_tos for d in deliveries] == [(EMAIL,)], (
        f"with a worker running, the queued task delivered {len(deliveries)} email(s), to "
        f"{[d.rcpt_tos for d in deliveries]!r}; expected exactly one, to {EMAIL!r}, within 5 s."
    )
    html = deliveries[0].message.get_body(("html",))
    assert html is not None and GIF in html.get_content(), (
        f"the worker's email does not show the GIF {GIF!r}; expected step 01's email, GIF "
        "included."
    )
    assert queued(broker) == [], (
        f"after the worker ran, Redis still holds {queued(broker)!r}; expected the `celery` "
        "list to be empty: the worker took the message."
    )
