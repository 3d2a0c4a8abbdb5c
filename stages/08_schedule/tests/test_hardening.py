"""The finished app's hardening beyond the tasks (marked `reference`, run with --solutions): no
form value in a log when the database fails, a body cut short is refused, the status page is
never cached. The kata's reference app promises each."""

from __future__ import annotations

import io
import logging
import traceback
from typing import Any
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.reference

EMAIL = "gob+secret@example.com"
THOUGHT = "the thought nobody else may read"
FORM = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT}
WHAT_CAN_GO_WRONG = "README, 'What can go wrong'"


def test_a_database_error_writes_no_form_value_to_the_log(app, client, database, queued, caplog):
    db = database()
    with db.connect() as connection:  # the database refuses the form's row when it is committed
        connection.execute(
            "CREATE TRIGGER kata_disk_full BEFORE INSERT ON mailer_requests "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )

    logged: list[str] = []
    with caplog.at_level(logging.DEBUG):
        try:
            answer = client.post("/mailers", data=FORM)
            status = answer.status_code
        except Exception as problem:  # noqa: BLE001 (the app may let it through: TESTING propagates)
            status = 500
            logged.append("".join(traceback.format_exception(problem)))
    for record in caplog.records:
        logged.append(record.getMessage())
        if record.exc_info:
            logged.append("".join(traceback.format_exception(*record.exc_info)))
    text = "\n".join(logged)

    assert status == 500 and queued() == {}, f"the form's row could not be written: expected a 500 and nothing queued, got {status} and {queued()}."
    assert "disk is full" in text, f"the failed commit left no error in the log: {text[:500]!r}"
    leaked = [value for value in (EMAIL, THOUGHT) if value in text]
    assert not leaked, (
        f"the database refused the form's row, and the error written to the log quotes {leaked}: the "
        "statement's parameters, the address and the thought. Logs are kept long and read by many; a "
        f"database error must name the statement, not the values. {WHAT_CAN_GO_WRONG}."
    )


def test_a_body_shorter_than_its_content_length_is_refused(app, client, database, queued):
    db = database()
    body = urlencode(FORM).encode()
    cut = body[: len(body) - 10]  # the client closed its side ten bytes early

    answer = client.post(
        "/mailers",
        input_stream=io.BytesIO(cut),
        content_type="application/x-www-form-urlencoded",
        # What the client announced; and the server says the stream ends where the client stopped
        # (gunicorn does: Werkzeug then reads it to its end, not to the Content-Length).
        environ_overrides={"CONTENT_LENGTH": str(len(body)), "wsgi.input_terminated": True},
    )

    assert (answer.status_code, db.rows(), queued()) == (400, [], {}), (
        f"a form whose body ended {len(body) - len(cut)} bytes before its Content-Length answered "
        f"{answer.status_code}, wrote {len(db.rows())} row(s) and queued {queued()}; expected 400 and nothing "
        "written or queued: a message cut short is incomplete (RFC 9112, section 6.3), and acting on it "
        f"queues a cut-off thought. {WHAT_CAN_GO_WRONG}."
    )


def test_the_status_page_is_never_cached(app, client, database):
    db = database()
    request_id = db.add(email=EMAIL, thought=THOUGHT)

    page = client.get(f"/mailers/{request_id}", headers={"Accept": "text/html"})
    answer = client.get(f"/mailers/{request_id}", headers={"Accept": "application/json"})

    cache = {"html": page.headers.get("Cache-Control"), "json": answer.headers.get("Cache-Control")}
    assert page.status_code == 200 and cache == {"html": "no-store", "json": "no-store"}, (
        f"the request's status page sent Cache-Control {cache} ({page.status_code}); expected no-store on "
        "both: the page shows the address, and a shared computer's browser or a proxy must not keep it. "
        f"{WHAT_CAN_GO_WRONG}."
    )


def test_posting_a_job_builds_no_redis_client_of_its_own(app, celery_of, database, broker, queued, monkeypatch):
    import redis

    celery = celery_of(app)
    db = database()
    ids = [db.add(email=f"n{i}@example.com") for i in range(10)]
    celery.send_task("workit.tasks.look_up_gif", (ids[0],))  # the first: the channel sets itself up
    made: list[int] = []
    original = redis.Redis.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    for request_id in ids[1:]:
        celery.send_task("workit.tasks.look_up_gif", (request_id,))
    monkeypatch.undo()

    assert len([m for ms in queued().values() for m in ms]) == len(ids), queued()
    assert len(made) == 0, (
        f"posting {len(ids) - 1} jobs made {len(made)} new redis.Redis client(s); expected none: kombu's Redis "
        "channel builds one per message unless it keeps one (workit/celery_app.py, RedisChannel), and "
        "building it is the largest piece of work POST /mailers repeats for nothing."
    )
