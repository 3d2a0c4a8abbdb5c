"""Task 1: two tasks, chained. The lookup finds the GIF, keeps it on the row and posts the email's
job; the email's job reads the GIF from the row. Only the request's id travels."""

from __future__ import annotations

import json
import logging

from kata.broker import task_failures
from kata.inbox import image_sources

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
FORM = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT}
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
LOOK_UP, SEND = "workit.tasks.look_up_gif", "workit.tasks.send_randomness_email"
TASK_1 = "README, task 1: look_up_gif(request_id) in workit/tasks.py, queued by POST /mailers"
ALL_QUEUES = ["celery", "giphy", "email"]


def every_message(queued):
    return [message for messages in queued().values() for message in messages]


def test_the_form_queues_the_lookup_with_the_request_id_alone(client, database, queued):
    db = database()

    client.post("/mailers", data=FORM)

    (row,) = db.rows()
    assert every_message(queued) == [(LOOK_UP, [row["id"]])], (
        f"the form queued {every_message(queued)}; expected one look_up_gif job whose one argument is "
        f"the request's id. {TASK_1}: the lookup comes first, and it posts the email's job."
    )


def test_the_lookup_keeps_the_gif_on_the_row_and_posts_the_email_with_the_id_alone(
    app, celery_of, database, giphy, inbox, queued, broker
):
    from workit.tasks import look_up_gif

    celery_of(app)
    db = database()
    request_id = db.add()
    giphy.search_finds(GIF)

    result = look_up_gif.apply((request_id,))

    assert every_message(queued) == [(SEND, [request_id])], (
        f"the lookup (it ended {result.state}: {result.result!r}) posted {every_message(queued)}; "
        "expected one send_randomness_email job whose one argument is the request's id: the GIF "
        f"is on the row, not in the message. {TASK_1}."
    )
    row = db.row(request_id)
    assert (row["gif_url"], row["status"]) == (GIF, "ready"), (
        f"after the lookup, the request's row has gif_url {row['gif_url']!r} and says {row['status']!r}; "
        "expected the GIF's URL, committed (the email's worker reads it from there), and 'ready': "
        "it waits for an email worker now."
    )
    raw = json.dumps([item.decode() for q in ALL_QUEUES for item in broker.client().lrange(q, 0, -1)])
    assert GIF not in raw and EMAIL not in raw, "the email's message carries the GIF or the address: pass the id alone."
    assert not inbox.deliveries, "the lookup sent the email itself: post the email's job instead, for the email workers."


def test_the_email_job_reads_the_gif_from_the_row_and_asks_giphy_nothing(app, celery_of, database, giphy, inbox):
    from workit.tasks import send_randomness_email

    celery_of(app)
    db = database()
    request_id = db.add(gif_url=GIF, status="ready")  # looked up: the email's turn

    result = send_randomness_email.apply((request_id,))

    assert giphy.calls == [], (
        f"the email's job called Giphy {len(giphy.calls)} time(s); expected none: the lookup did, "
        "and left the GIF on the row. README, task 1."
    )
    assert result.state == "SUCCESS", f"send_randomness_email ended {result.state}: {result.result!r}."
    assert len(inbox.deliveries) == 1, f"{len(inbox.deliveries)} emails arrived; expected one."
    assert image_sources(inbox.messages[0].get_body(("html",)).get_content()) == [GIF], (
        "the email does not show the GIF that the row holds."
    )
    assert db.row(request_id)["status"] == "sent"


def test_the_email_job_is_posted_only_once_the_gif_is_committed(app, celery_of, database, giphy):
    from celery.signals import before_task_publish
    from workit.tasks import look_up_gif

    celery_of(app)
    db = database()
    request_id = db.add()
    giphy.search_finds(GIF)
    seen_at_publish: list[object] = []

    def look(sender=None, body=None, **_):
        if sender == SEND:
            seen_at_publish.append((db.row(request_id) or {}).get("gif_url"))

    before_task_publish.connect(look, weak=False)
    try:
        look_up_gif.apply((request_id,))
    finally:
        before_task_publish.disconnect(look)

    assert seen_at_publish == [GIF], (
        f"when the lookup posted the email's job, another connection (the email worker's) read "
        f"gif_url {seen_at_publish}; expected the GIF: it was not committed yet. A fast email "
        f"worker sends without it. Commit, then post: enqueue after commit. {TASK_1}."
    )


def test_the_chain_runs_in_order_through_a_real_worker(
    client, database, workers, slow_giphy, inbox, wait_for_status, tasks_run
):
    db = database()
    at_giphy: list[str | None] = []
    at_smtp: list[str | None] = []
    slow_giphy.watch = lambda _query: at_giphy.append((db.rows() or [{}])[0].get("status"))
    inbox.while_receiving(lambda: at_smtp.append((db.rows() or [{}])[0].get("status")))

    with workers(ALL_QUEUES), task_failures() as failures:
        client.post("/mailers", data=FORM)
        (row,) = db.rows()
        final = wait_for_status(db, row["id"], ("sent", "failed"), failures=failures)

    assert tasks_run == [LOOK_UP, SEND], (
        f"the worker ran {tasks_run}; expected look_up_gif, then the send_randomness_email it posted. {TASK_1}."
    )
    assert (at_giphy, at_smtp) == (["looking_up"], ["sending"]), (
        f"while Giphy was asked, the request said {at_giphy}, and while its email was handed to the "
        f"mail server, {at_smtp}; expected ['looking_up'] then ['sending']: each job writes (and "
        f"commits) its step, so the page can show it. {TASK_1}."
    )
    assert (final, len(inbox.deliveries)) == ("sent", 1), (
        f"a real worker ran the chain: the request ended {final!r} with {len(inbox.deliveries)} email(s) "
        f"({failures[0] if failures else 'no task failed'!r}); expected 'sent' and one email."
    )
    assert image_sources(inbox.messages[0].get_body(("html",)).get_content()) == [GIF]


def test_a_lookup_for_a_request_that_is_gone_or_sent_posts_nothing(app, celery_of, database, giphy, queued, caplog):
    from workit.tasks import look_up_gif

    celery_of(app)
    db = database()
    sent = db.add(status="sent")
    missing = "kataNoSuchRequest00000000"
    giphy.search_finds(GIF)

    with caplog.at_level(logging.INFO):
        results = [look_up_gif.apply((request_id,)) for request_id in (sent, missing)]

    assert [r.state for r in results] == ["SUCCESS", "SUCCESS"], (
        f"the lookups of a sent request and of a missing one ended {[r.state for r in results]} "
        f"({[repr(r.result) for r in results]}); expected SUCCESS for both, and no retry."
    )
    assert (every_message(queued), giphy.calls) == ([], []), (
        f"for a request already sent and one not in the database, the lookup asked Giphy "
        f"{len(giphy.calls)} time(s) and posted {every_message(queued)}; expected nothing: the row "
        "says there is nothing to do (a job that came back after a crash, a deleted request)."
    )
    assert any(missing in r.getMessage() and r.levelno >= logging.WARNING for r in caplog.records), (
        f"nothing in the log at WARNING names the missing request {missing!r}."
    )


def test_a_lookup_retries_when_giphy_fails_for_a_moment(app, celery_of, database, giphy, queued):
    from workit.tasks import look_up_gif

    celery_of(app)
    db = database()
    request_id = db.add()
    giphy.search_fails(503)
    giphy.random_fails(503)
    giphy.search_finds(GIF)

    result = look_up_gif.apply((request_id,))

    assert (result.state, db.row(request_id)["gif_url"]) == ("SUCCESS", GIF), (
        f"Giphy answered 503 once, then a GIF; the lookup ended {result.state} with gif_url "
        f"{db.row(request_id)['gif_url']!r}; expected SUCCESS and the GIF: keep step 05's retries "
        "for a Giphy that fails for a moment, in the lookup now."
    )
    assert every_message(queued) == [(SEND, [request_id])], f"the lookup posted {every_message(queued)}; expected one email job."


def test_the_logs_never_hold_the_address_or_the_thought(
    client, database, workers, giphy, inbox, caplog, wait_for_status, tasks_run
):
    db = database()
    giphy.search_fails(401)
    giphy.random_fails(401)

    # INFO and up: the thought may be in a DEBUG line, for debugging (workit/giphy.py), never above.
    with caplog.at_level(logging.INFO), workers(ALL_QUEUES), task_failures() as failures:
        client.post("/mailers", data=FORM)
        (row,) = db.rows()
        final = wait_for_status(db, row["id"], ("sent", "failed"), failures=failures)

    assert (final, tasks_run) == ("sent", [LOOK_UP, SEND]), f"the tasks {tasks_run} ran and the request ended {final!r} ({failures[0] if failures else 'no task failed'!r}); expected 'sent'. {TASK_1}."
    ours = [r for r in caplog.records if r.name.startswith(("workit", "celery.app.trace", "flask"))]
    leaks = [r.getMessage() for r in ours if EMAIL in r.getMessage() or THOUGHT in r.getMessage()]
    assert not leaks, f"the log holds the address or the thought: {leaks[0][:300]!r}. Name the request by its id."
