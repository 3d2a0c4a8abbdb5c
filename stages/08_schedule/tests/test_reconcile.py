"""Task 4: reconcile. A request in flight whose row has not moved for RECONCILE_AFTER seconds
was lost on the way: its job is posted again, once; lost again, it is marked failed, with a
reason. A second run changes nothing; one run does a batch at most."""

from __future__ import annotations

import pytest

from kata.broker import decode_task_message

LOOK_UP = "workit.tasks.look_up_gif"
IN_FLIGHT, FINAL = ("queued", "looking_up", "ready", "sending"), ("sent", "failed")
LOST_REQUEST = "We lost your request on the way and gave up after trying again."
TASK_4 = "README, task 4: reconcile_requests() in workit/maintenance.py"


def every_message(queued):
    return [message for messages in queued().values() for message in messages]


def test_each_lost_request_is_posted_again_once_with_its_id_alone(database, maintenance, queued, ago):
    db = database()
    stale = {status: db.add(status=status, created_at=ago(hours=4), updated_at=ago(hours=3)) for status in IN_FLIGHT}
    fresh = [db.add(status=status, created_at=ago(hours=4), updated_at=ago(minutes=5)) for status in IN_FLIGHT]
    final = [db.add(status=status, created_at=ago(hours=4), updated_at=ago(hours=3)) for status in FINAL]
    untouched = {request_id: db.row(request_id) for request_id in fresh + final}

    result = maintenance("reconcile_requests")

    expected = sorted((LOOK_UP, [request_id]) for request_id in stale.values())
    assert result.state == "SUCCESS" and sorted(every_message(queued)) == expected and "giphy" in queued(), (
        f"the reconcile run ({result.state}) posted {every_message(queued)} (queues: {list(queued())}); expected one "
        f"look_up_gif job on 'giphy' for each request in flight that has not moved for 3 hours, with its id "
        f"alone. {TASK_4}."
    )
    assert all(db.row(request_id)["requeued_at"] for request_id in stale.values()), (
        f"after the run, the requests posted again say requeued_at = "
        f"{[db.row(request_id)['requeued_at'] for request_id in stale.values()]}; expected it set. {TASK_4}."
    )
    changed = [db.row(request_id)["status"] for request_id, row in untouched.items() if db.row(request_id) != row]
    assert not changed, (
        f"the run changed requests it must leave alone (their statuses: {changed}): a request whose row moved "
        f"5 minutes ago is only slow, and a sent or failed one is done. {TASK_4}."
    )


def test_a_second_run_posts_nothing_and_changes_nothing(database, maintenance, queued, ago):
    db = database()
    for status in IN_FLIGHT:
        db.add(status=status, created_at=ago(hours=4), updated_at=ago(hours=3))
    first = maintenance("reconcile_requests")
    once, posted = db.rows(), len(every_message(queued))
    assert first.state == "SUCCESS" and posted == len(IN_FLIGHT), (
        f"the first run ended {first.state} and posted {posted} job(s); expected {len(IN_FLIGHT)}"
    )

    maintenance("reconcile_requests")

    assert (len(every_message(queued)), db.rows()) == (posted, once), (
        f"a second reconcile run posted {len(every_message(queued)) - posted} more job(s) and changed "
        f"{sum(row not in once for row in db.rows())} row(s); expected nothing: a request posted again "
        f"is given RECONCILE_AFTER seconds again. {TASK_4}."
    )


def test_a_request_lost_again_is_marked_failed_with_a_reason(database, maintenance, queued, ago):
    db = database()
    request_id = db.add(status="queued", created_at=ago(hours=6), updated_at=ago(hours=3), requeued_at=ago(hours=3))

    maintenance("reconcile_requests")

    row = db.row(request_id)
    assert (row["status"], row["error"]) == ("failed", LOST_REQUEST) and every_message(queued) == [], (
        f"a request posted again 3 hours ago, still queued, is now {row['status']!r} with error {row['error']!r}, "
        f"and the run posted {every_message(queued)}; expected 'failed' with LOST_REQUEST and no job: each "
        f"request is posted again once at most. {TASK_4}."
    )


def test_an_old_request_that_moved_lately_is_left_alone(database, maintenance, queued, ago):
    db = database()
    request_id = db.add(status="sending", created_at=ago(days=2), updated_at=ago(minutes=1))
    before = db.row(request_id)

    result = maintenance("reconcile_requests")

    assert result.state == "SUCCESS", f"the reconcile run ended {result.state}: {result.result!r}"
    assert (db.row(request_id), every_message(queued)) == (before, []), (
        "a request made two days ago whose row moved a minute ago was posted again or changed; a request is "
        f"lost when its row has not moved (updated_at), however old it is (created_at). {TASK_4}."
    )


def test_the_row_says_requeued_before_the_job_is_posted(database, maintenance, ago):
    from celery.signals import before_task_publish

    db = database()
    request_id = db.add(status="queued", created_at=ago(hours=4), updated_at=ago(hours=3))
    seen = []

    def look(**_kwargs):
        seen.append(db.row(request_id)["requeued_at"])  # a connection of the test's own

    before_task_publish.connect(look, weak=False)
    try:
        maintenance("reconcile_requests")
    finally:
        before_task_publish.disconnect(look)

    assert seen and all(seen), (
        f"when the job was posted again, the row said requeued_at = {seen}; expected it set and committed: "
        f"enqueue after commit, or a fast worker finds the row unchanged. {TASK_4}."
    )


def test_one_run_changes_a_batch_at_most_oldest_first(app, database, maintenance, queued, ago):
    db = database()
    app.config["MAINTENANCE_BATCH"] = 2
    made = [db.add(status="queued", created_at=ago(hours=9), updated_at=ago(hours=3 + n)) for n in range(5)]

    maintenance("reconcile_requests")

    posted = sorted(made.index(args[0]) for _task, args in every_message(queued))
    assert posted == [3, 4], (
        f"with MAINTENANCE_BATCH=2 and 5 lost requests (0 the latest to move, 4 the longest still), one run "
        f"posted {posted}; expected [3, 4], the two that waited longest. {TASK_4}."
    )


def run_what_waits(broker, queue):
    """Take each message waiting in `queue` and run its task here, as a worker would: how many."""
    import workit.tasks

    client, ran = broker.client(), 0
    while client.llen(queue):
        message = decode_task_message(client.rpop(queue))
        getattr(workit.tasks, message.task.rsplit(".", 1)[1]).apply(message.args, task_id=message.id)
        ran += 1
    return ran


def test_a_lost_request_reaches_the_inbox_once(app, celery_of, database, maintenance, broker, giphy, inbox, ago):
    db = database()
    giphy.search_finds("https://media.giphy.com/media/kataMonster/200.gif")
    request_id = db.add(status="queued", created_at=ago(hours=4), updated_at=ago(hours=3))  # its message was lost

    maintenance("reconcile_requests")
    ran = [run_what_waits(broker, "giphy"), run_what_waits(broker, "email")]
    maintenance("reconcile_requests")
    ran += [run_what_waits(broker, "giphy"), run_what_waits(broker, "email")]

    status = db.row(request_id)["status"]
    assert (status, len(inbox.deliveries), ran) == ("sent", 1, [1, 1, 0, 0]), (
        f"a request left queued with no message was reconciled, its jobs run as they came ({ran} from giphy, "
        f"email, then again after a second reconcile run); it says {status!r} and {len(inbox.deliveries)} "
        f"email(s) arrived; expected 'sent', one email, and nothing posted by the second run. {TASK_4}."
    )


def test_a_request_another_run_posted_meanwhile_is_not_posted_again(app, database, maintenance, queued, ago):
    from sqlalchemy import event

    from workit.db import db as app_db

    db = database()
    request_id = db.add(status="queued", created_at=ago(hours=4), updated_at=ago(hours=3))
    stale_still = db.row(request_id)["updated_at"]

    def another_run_was_faster(_conn, _cursor, statement, *_args):
        # Right after this run has read the lost requests, another run (its lock expired under
        # this one) posts the same request again and commits.
        if statement.lstrip().upper().startswith("SELECT") and db.row(request_id)["requeued_at"] is None:
            with db.connect() as other:
                other.execute(
                    "UPDATE mailer_requests SET requeued_at = updated_at, updated_at = ? WHERE id = ?",
                    (stale_still, request_id),
                )

    with app.app_context():
        engine = app_db.engine
    event.listen(engine, "after_cursor_execute", another_run_was_faster)
    try:
        result = maintenance("reconcile_requests")
    finally:
        event.remove(engine, "after_cursor_execute", another_run_was_faster)

    assert result.state == "SUCCESS", f"the reconcile run ended {result.state}: {result.result!r}"
    assert every_message(queued) == [], (
        f"another run posted the request again between this run's SELECT and its UPDATE, and this run posted "
        f"{every_message(queued)} too; expected nothing: the UPDATE's WHERE must say requeued_at IS NULL, and "
        f"only a run whose UPDATE changed the row posts. The lock can expire; the database decides. {TASK_4}."
    )


@pytest.mark.parametrize(
    "lost",
    ["ready", "sending"],
    ids=["its-email-job-lost", "lost-while-sending"],
)
def test_a_request_lost_past_the_lookup_reaches_the_inbox_once(lost, app, celery_of, database, maintenance, broker, giphy, inbox, ago):
    db = database()
    giphy.search_finds("https://media.giphy.com/media/kataMonster/200.gif")
    request_id = db.add(status=lost, created_at=ago(hours=4), updated_at=ago(hours=3))  # its message was lost

    maintenance("reconcile_requests")
    ran = [run_what_waits(broker, "giphy"), run_what_waits(broker, "email")]

    status = db.row(request_id)["status"]
    assert (status, len(inbox.deliveries)) == ("sent", 1), (
        f"a request left {lost!r} for hours with no message was reconciled and its jobs run as they came "
        f"({ran} from giphy, then email); it says {status!r} and {len(inbox.deliveries)} email(s) arrived; "
        f"expected 'sent' and one email. The job posted again is the lookup, and a lookup claims only a "
        f"request queued (or looking up): the run must put the request back to queued as it posts it. {TASK_4}."
    )


@pytest.mark.parametrize("first", ["email", "giphy"], ids=["waiting-email-job-first", "lookup-first"])
def test_a_request_whose_email_job_still_waits_is_sent_once(first, app, celery_of, database, maintenance, broker, giphy, inbox, ago):
    celery = celery_of(app)
    db = database()
    giphy.search_finds("https://media.giphy.com/media/kataMonster/200.gif")
    request_id = db.add(status="ready", created_at=ago(hours=4), updated_at=ago(hours=3))
    # Its email worker has been stopped for hours: the job waits in its queue (posted by this test's app).
    celery.send_task("workit.tasks.send_randomness_email", (request_id,))

    result = maintenance("reconcile_requests")
    assert result.state == "SUCCESS" and broker.client().llen("giphy") == 1, (
        f"the reconcile run ended {result.state} ({result.result!r}) and posted {broker.client().llen('giphy')} "
        f"lookup(s) for a request ready for hours; expected one. {TASK_4}."
    )
    second = "giphy" if first == "email" else "email"
    ran = [run_what_waits(broker, first), run_what_waits(broker, second), run_what_waits(broker, "email")]

    status = db.row(request_id)["status"]
    assert (status, len(inbox.deliveries)) == ("sent", 1), (
        f"a request ready for hours, its email job still waiting in its queue, was reconciled; the jobs ran "
        f"({ran} from {first}, {second}, then email) and it says {status!r} with {len(inbox.deliveries)} "
        "email(s); expected 'sent' and one email: the job posted again and the one still waiting are two "
        f"jobs for one request, and only the one that claims the row may send. {TASK_4}."
    )
