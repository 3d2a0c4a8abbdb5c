"""Task 6: claim the row. Two copies of a job (a lookup that came back after posting, a job posted
twice, two pool processes taking them at the same moment) end in one email: each job moves the
row from the status it expects to the next in one step the database decides, and works only
when it won.

The tests run the second copy at a chosen moment inside the first (right before the first
writes the row, or while it hands its email to the mail server), so nothing depends on timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

EMAIL = "buster@example.com"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
LOOK_UP, SEND = "workit.tasks.look_up_gif", "workit.tasks.send_randomness_email"
TASK_6 = "README, task 6: claimed() in workit/steps.py, used by both jobs"
DOCS = "SQLAlchemy's 'Using UPDATE and DELETE Statements' (the rows an UPDATE matched)"


def every_message(queued: Callable[[], dict[str, list[Any]]]) -> list[Any]:
    return [message for messages in queued().values() for message in messages]


@contextmanager
def before_the_first_write(app: Any, nth: int, then: Callable[[], Any]) -> Iterator[list[Any]]:
    """Run `then()` once, right before the `nth` UPDATE of mailer_requests that the code under
    test sends (the second copy's own statements do not count): what it returned, in a list."""
    from sqlalchemy import event

    from workit.db import db as app_db

    seen: list[int] = []
    ran: list[Any] = []

    def hook(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = statement.lstrip().upper()
        if ran or not (text.startswith("UPDATE") and "MAILER_REQUESTS" in text):
            return
        seen.append(1)
        if len(seen) == nth:
            ran.append(None)
            ran[0] = then()

    with app.app_context():
        engine = app_db.engine
    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield ran
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def test_two_copies_of_the_email_job_claiming_at_once_send_one_email(app, celery_of, database, inbox):
    from workit.tasks import send_randomness_email

    celery_of(app)
    db = database()
    request_id = db.add(gif_url=GIF, status="ready")

    with before_the_first_write(app, 1, lambda: send_randomness_email.apply((request_id,))) as second:
        first = send_randomness_email.apply((request_id,))

    states = [result.state for result in (first, *second)]
    assert len(inbox.deliveries) == 1 and db.row(request_id)["status"] == "sent", (
        f"two copies of the email's job ran at the same moment: both read the request while it said "
        f"'ready', and the second ran to its end before the first wrote the row. {len(inbox.deliveries)} "
        f"email(s) arrived (the jobs ended {states}) and the row says {db.row(request_id)['status']!r}; "
        "expected one email and 'sent'. Reading the status and then writing it lets both copies see "
        "'ready' and both send: the move from ready to sending must be one step the database decides, "
        f"and only the copy that made it may send. {TASK_6}; read {DOCS}."
    )


def test_a_copy_of_the_email_job_arriving_while_the_first_sends_sends_nothing(app, celery_of, database, inbox, monkeypatch):
    import workit.notifier
    from workit.tasks import send_randomness_email

    celery_of(app)
    db = database()
    request_id = db.add(gif_url=GIF, status="ready")
    real_send = workit.notifier.send_email
    second: list[Any] = []
    seen_while_sending: list[str] = []

    def send(*args: Any, **kwargs: Any) -> None:
        if not seen_while_sending:  # the first copy is at the mail server: the second one starts now
            seen_while_sending.append(db.row(request_id)["status"])
            second.append(send_randomness_email.apply((request_id,)))
        real_send(*args, **kwargs)

    monkeypatch.setattr(workit.notifier, "send_email", send)
    first = send_randomness_email.apply((request_id,))

    assert len(inbox.deliveries) == 1, (
        f"a second copy of the email's job started while the first was handing the email to the mail "
        f"server (the row said {seen_while_sending}); {len(inbox.deliveries)} emails arrived (the jobs ended "
        f"{first.state} and {[r.state for r in second]}). Expected one: a request that is 'sending' is "
        f"another job's, and only a request that is 'ready' may be claimed. {TASK_6}."
    )


@pytest.mark.parametrize(
    "moment",
    [1, 2],
    ids=["the-second-runs-before-the-first-claims", "both-look-up-at-once"],
)
def test_two_copies_of_the_lookup_at_once_post_one_email_job(moment, app, celery_of, database, giphy, queued):
    from workit.tasks import look_up_gif

    celery_of(app)
    db = database()
    request_id = db.add()
    giphy.search_finds(GIF)

    with before_the_first_write(app, moment, lambda: look_up_gif.apply((request_id,))) as second:
        first = look_up_gif.apply((request_id,))

    when = (
        "right before the first copy claimed the lookup"
        if moment == 1
        else "while the first copy was looking up, right before it moved the row on to 'ready'"
    )
    posted = every_message(queued)
    assert posted == [(SEND, [request_id])], (
        f"two copies of the lookup ran, the second from start to end {when}; they posted {posted} (the "
        f"jobs ended {first.state} and {[r.state for r in second]}). Expected one email job: each copy "
        "moves the row on in one step the database decides (queued or looking up to looking up; "
        "looking up to ready), and only the copy whose last move won posts the email's job. "
        f"{TASK_6}; read {DOCS}."
    )
    assert db.row(request_id)["status"] == "ready", f"the row says {db.row(request_id)['status']!r}; expected 'ready'."


def test_a_lookup_that_comes_back_after_posting_posts_nothing(app, celery_of, database, giphy, queued):
    from workit.tasks import look_up_gif

    celery_of(app)
    db = database()
    request_id = db.add()
    giphy.search_finds(GIF)

    look_up_gif.apply((request_id,), task_id="kata-lookup-1")
    # Its worker died after posting, before acknowledging: with late acks the message comes back.
    again = look_up_gif.apply((request_id,), task_id="kata-lookup-1")

    posted = every_message(queued)
    assert posted == [(SEND, [request_id])], (
        f"a lookup ran, posted the email's job, and came back (its worker died before acknowledging it: "
        f"late acks); it ended {again.state} and the queues hold {posted}. Expected the one email job of "
        "the first run: the row says 'ready', past the lookup, so the copy that comes back posts "
        f"nothing. Two email jobs are two emails as soon as two email workers take them at once. {TASK_6}."
    )


def test_an_email_refused_for_a_moment_gives_its_claim_back_and_is_sent_on_its_retry(
    app, celery_of, database, inbox, monkeypatch
):
    from workit.tasks import send_randomness_email

    celery_of(app)
    db = database()
    request_id = db.add(gif_url=GIF, status="ready")
    inbox.refuse(1)
    at_retry: list[str] = []
    retry = send_randomness_email.retry

    def look_then_retry(*args: Any, **kwargs: Any) -> Any:
        at_retry.append(db.row(request_id)["status"])  # what another worker would see meanwhile
        return retry(*args, **kwargs)

    monkeypatch.setattr(send_randomness_email, "retry", look_then_retry)
    # Run here, the job's retry runs at once (Celery runs it in place instead of waiting).
    result = send_randomness_email.apply((request_id,))

    status = db.row(request_id)["status"]
    assert (len(inbox.deliveries), status, at_retry) == (1, "sent", ["ready"]), (
        f"the mail server refused the email once, then took it: the job ended {result.state} "
        f"({result.result!r}) with {len(inbox.deliveries)} email(s), the row saying {status!r}, and "
        f"{at_retry} when the job asked to be retried. Expected one email, 'sent', and ['ready']: the job "
        "that tries again claims the request again, so give the claim back (the row to 'ready') before "
        f"retrying, or the retry finds it taken and nobody sends. {TASK_6}."
    )
