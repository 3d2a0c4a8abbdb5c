"""Task 4: the form makes a row, commits it, then queues a job that carries the row's id alone."""

from __future__ import annotations

import json

from celery.signals import before_task_publish

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
FORM = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT}
TASK_6 = "README, task 6: POST /mailers in workit/views.py"


def test_the_form_makes_a_row_and_queues_only_its_id(client, broker, database):
    db = database()

    client.post("/mailers", data=FORM)

    rows = db.rows()
    assert [(r["email"], r["thought"], r["status"]) for r in rows] == [(EMAIL, THOUGHT, "queued")], (
        f"after one form, the database holds {[(r['email'], r['thought'], r['status']) for r in rows]}; "
        f"expected one request, queued, with the email and the thought. {TASK_6}."
    )
    queued = broker.queued()
    assert [(m.task, m.args, m.kwargs) for m in queued] == [("workit.tasks.send_randomness_email", [rows[0]["id"]], {})], (
        f"the form queued {[(m.task, m.args, m.kwargs) for m in queued]}; expected one "
        f"send_randomness_email job whose one argument is the request's id, {rows[0]['id']!r}. "
        "Pass the id, not the model or its email: the worker reads the rest from the database."
    )
    raw = json.dumps([item.decode() for item in broker.client().lrange("celery", 0, -1)])
    assert EMAIL not in raw and "monster" not in raw, (
        "the message in Redis holds the email address or the thought: personal data in the "
        "broker, copied to every worker and log that sees it. The id is all a job needs."
    )


def test_the_job_is_queued_only_once_its_row_is_committed(client, broker, database):
    db = database()
    seen_at_publish: list[object] = []

    def look(sender=None, body=None, **_):
        args = body[0] if isinstance(body, (list, tuple)) and body else []
        seen_at_publish.append(db.row(args[0]) if args and isinstance(args[0], str) else "no id")

    before_task_publish.connect(look, weak=False)
    try:
        client.post("/mailers", data=FORM)
    finally:
        before_task_publish.disconnect(look)

    assert seen_at_publish, f"the form queued no job. {TASK_6}."
    assert seen_at_publish[0] != "no id", "the job's first argument is no request id."
    assert seen_at_publish[0] is not None, (
        "at the moment the job was published, another connection (a worker's) could not see "
        "the request's row: it was not committed yet. A fast worker takes the job, finds "
        "nothing and gives up. Commit first, then .delay(): enqueue after commit."
    )


def test_the_answer_sends_the_browser_to_the_request_s_status_page(client, broker, database):
    db = database()

    answer = client.post("/mailers", data=FORM)

    rows = db.rows()
    where = answer.headers.get("Location", "")
    assert rows and (answer.status_code, where) == (303, f"/mailers/{rows[0]['id']}"), (
        f"POST /mailers answered {answer.status_code} to {where!r}; expected 303 to the request's "
        f"status page, /mailers/<its id>. {TASK_6}."
    )


def test_the_flash_says_queued_not_sent(client, broker, database):
    database()

    client.post("/mailers", data=FORM)

    with client.session_transaction() as session:
        flashed = [message for _category, message in session.get("_flashes", [])]
    assert flashed and all("queued" in m.lower() and "sent" not in m.lower() for m in flashed), (
        f"the form flashed {flashed!r}. Nothing has been sent yet, only queued: say 'queued', "
        "never 'sent'. The status page tells when it is."
    )


def test_a_refused_form_makes_no_row(client, broker, database):
    db = database()

    answer = client.post("/mailers", data={"mailers[email]": "not an address", "mailers[thought]": THOUGHT})

    assert answer.status_code == 400 and db.rows() == [] and broker.queued() == [], (
        f"a form with a bad address answered {answer.status_code}, made {len(db.rows())} row(s) and "
        f"queued {len(broker.queued())} job(s); expected 400, none and none: check the form first."
    )


def test_redis_down_leaves_no_request_saying_queued(app_config, redis_outage, the_db, database_file):
    from workit import create_app

    app = create_app({**app_config, "REDIS_URL": redis_outage.refused})
    db = the_db(app)
    with app.app_context():
        db.create_all()

    answer = app.test_client().post("/mailers", data=FORM)

    import sqlite3

    with sqlite3.connect(database_file) as connection:
        statuses = [row[0] for row in connection.execute("SELECT status FROM mailer_requests")]
    assert answer.status_code == 503 and statuses in ([], ["failed"]), (
        f"with Redis down, POST /mailers answered {answer.status_code} and left requests with the "
        f"statuses {statuses}; expected 503 and no request saying 'queued': its job never was, "
        "and its page would wait for ever. Take it back (or mark it failed) when .delay() fails."
    )
