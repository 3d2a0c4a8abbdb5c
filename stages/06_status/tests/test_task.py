"""Task 6: the job takes the request's id, reads the row, and writes each step of its way there."""

from __future__ import annotations

import logging
import time

from kata.inbox import image_sources
from kata.stack import free_port

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
TEST_SERVERS = ("mail.log", "aiosmtpd")  # the test's own SMTP server logs what it receives
TASK_4 = "README, task 4: send_randomness_email(request_id) in workit/tasks.py"


def wait_for_status(db, request_id: str, statuses: tuple[str, ...], timeout: float = 5.0) -> str | None:
    deadline = time.monotonic() + timeout
    while True:
        row = db.row(request_id)
        status = row["status"] if row else None
        if status in statuses or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


def test_a_job_moves_its_request_from_queued_to_sending_to_sent(app, database, celery_of, run_worker, giphy, inbox):
    from workit.tasks import send_randomness_email

    db = database()
    request_id = db.add(EMAIL, THOUGHT)
    giphy.search_finds(GIF)
    while_sending: list[str | None] = []
    inbox.while_receiving(lambda: while_sending.append((db.row(request_id) or {}).get("status")))

    with run_worker(celery_of(app)):
        send_randomness_email.delay(request_id)
        inbox.wait_for(1, timeout=10)
        final = wait_for_status(db, request_id, ("sent", "failed"))

    assert [d.rcpt_tos for d in inbox.deliveries] == [(EMAIL,)], (
        f"a real worker ran the job of a request for {EMAIL!r} and {len(inbox.deliveries)} email(s) "
        f"arrived; expected one, to the request's address, read from its row. {TASK_4}."
    )
    assert image_sources(inbox.messages[0].get_body(("html",)).get_content()) == [GIF]
    assert while_sending == ["sending"], (
        f"while its email was handed to the mail server, the request said {while_sending}; expected "
        "'sending': the worker writes (and commits) each step, so the page can show it."
    )
    row = db.row(request_id)
    assert (final, row["gif_url"]) == ("sent", GIF), (
        f"after its email went out, the request is {final!r} with gif_url {row['gif_url']!r}; "
        "expected 'sent' and the GIF's URL."
    )


def test_a_request_already_sent_is_not_sent_again(database, run_job, giphy, inbox):
    db = database()
    request_id = db.add(status="sent")
    giphy.search_finds(GIF)

    job = run_job(request_id)

    assert (job.state, len(inbox.deliveries)) == ("SUCCESS", 0), (
        f"the job of a request whose row says 'sent' ended {job.state} and sent "
        f"{len(inbox.deliveries)} email(s); expected SUCCESS and none. A job can come back "
        "(late acks): the row says whether its email went out already."
    )


def test_a_job_for_a_request_that_does_not_exist_is_logged_and_dropped(database, run_job, giphy, inbox, caplog):
    database()
    giphy.search_finds(GIF)
    missing = "kataNoSuchRequest00000000"

    with caplog.at_level(logging.INFO):
        job = run_job(missing)

    assert (job.state, job.retries) == ("SUCCESS", 0), (
        f"the job of a request that is not in the database ended {job.state} after {job.retries} "
        f"retries ({job.error!r}); expected SUCCESS and no retry: no wait makes a missing row "
        "appear. Log it and return."
    )
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and missing in r.getMessage()]
    assert warnings, f"nothing in the log at WARNING names the missing request {missing!r}: that line is all anyone will see."
    assert not inbox.deliveries


def test_a_request_whose_email_cannot_be_sent_ends_failed_with_a_reason(app, database, run_job, giphy, inbox):
    db = database()
    request_id = db.add()
    giphy.search_finds(GIF)
    app.config["MAIL_PORT"] = free_port()  # nothing listens there: every try is refused

    job = run_job(request_id)

    row = db.row(request_id)
    assert job.state == "FAILURE", f"the job ended {job.state} ({job.error!r}); expected FAILURE once step 05's retries are spent."
    assert job.retries >= 3 and set(job.statuses_at_retry) == {"sending"}, (
        f"the job retried {job.retries} times, and between its retries the request said "
        f"{job.statuses_at_retry}; expected step 05's retries, with 'sending' each time: it "
        "fails only once the last try has."
    )
    assert row["status"] == "failed", (
        f"the mail server refused every try, the job failed for good, and its request says "
        f"{row['status']!r}; expected 'failed': otherwise its page says 'sending' for ever. {TASK_4}."
    )
    reason = row["error"] or ""
    assert 10 <= len(reason) <= 300 and "\n" not in reason and "Error" not in reason and EMAIL not in reason, (
        f"the failed request's error is {reason!r}; expected one sentence a person can read on the "
        "status page: not empty, not a traceback or an exception's name, no address."
    )


def test_giphy_failing_for_good_still_sends_and_says_sent(database, run_job, giphy, inbox):
    db = database()
    request_id = db.add()
    giphy.search_fails(401)
    giphy.random_fails(401)

    job = run_job(request_id)

    row = db.row(request_id)
    assert (job.state, len(inbox.deliveries), row["status"], row["gif_url"]) == ("SUCCESS", 1, "sent", None), (
        f"with Giphy refusing the key, the job ended {job.state}, sent {len(inbox.deliveries)} email(s) "
        f"and left the request {row['status']!r} with gif_url {row['gif_url']!r}; expected SUCCESS, "
        "one email without a GIF (step 05), 'sent' and no GIF."
    )


def test_the_logs_never_hold_the_address_or_the_thought(app, database, run_job, giphy, inbox, caplog):
    db = database()
    giphy.search_finds(GIF)

    with caplog.at_level(logging.DEBUG):
        run_job(db.add(email=EMAIL, thought=THOUGHT))
        app.config["MAIL_PORT"] = free_port()
        run_job(db.add())

    ours = [r for r in caplog.records if not r.name.startswith(TEST_SERVERS)]
    leaks = [r.getMessage() for r in ours if EMAIL in r.getMessage() or THOUGHT in r.getMessage()]
    assert not leaks, (
        f"the log holds the address or the thought: {leaks[0][:300]!r}. Logs are kept, copied and "
        "read by people who need not know who asked for what: name the request by its id."
    )
