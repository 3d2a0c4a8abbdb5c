"""Beyond step 05 (issue 12): the same form sent twice is one email. Runs with --solutions only.

The view derives the job's task id from the form's submission id (stage 04's reference,
test_submission.py), and the task sends a task id's email once (test_idempotency.py). Together:
a user who sends the form again after a 503 whose message did reach Redis gets one email.
"""

from __future__ import annotations

import time

import pytest
from celery.signals import task_postrun

from kata.broker import task_failures
from kata.page import read_page
from kata.stack import worker_service

pytestmark = pytest.mark.reference

GIF = "https://media.giphy.com/media/kataMonster/200.gif"


def test_a_form_sent_twice_sends_one_email(app, client, celery_of, giphy, inbox, broker, run_worker):
    giphy.search_finds(GIF)
    submission = read_page(client.get("/").text).values.get("submission")
    fields = {"mailers[email]": "buster@example.com", "mailers[thought]": "I'm a monster", "submission": submission}
    answers = [client.post("/mailers", data=fields).status_code for _ in range(2)]
    finished: list[str] = []

    def remember(task_id=None, **_):
        finished.append(task_id)

    task_postrun.connect(remember, weak=False)
    try:
        with task_failures() as failures, run_worker(celery_of(app)):
            deadline = time.monotonic() + 5
            while len(finished) < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
    finally:
        task_postrun.disconnect(remember)

    assert answers == [303, 303] and len(finished) == 2 and not failures, (
        f"the form sent twice answered {answers}; the worker finished {len(finished)} of the 2 "
        f"jobs (task errors: {failures!r}); expected both."
    )
    assert len(inbox.deliveries) == 1, (
        f"the same form (submission {submission!r}) sent twice gave {len(inbox.deliveries)} "
        "emails; expected one: its task id comes from the submission id, and the sent key "
        "makes the second job a no-op."
    )


# --- the real thing: Redis stopped (SIGSTOP) under a warm connection ---------------------


@pytest.fixture
def paused_redis(stack_logs):
    """A Redis process of this test's own, to stop with SIGSTOP without touching the others':
    redis-server, or where it is not installed, the embedded Redis in a child process."""
    from kata.stack_fixtures import own_redis_process

    with own_redis_process(stack_logs, "redis-paused") as info:
        yield info


@pytest.fixture
def stack_env(stack_env, request):
    if "paused_redis" in request.fixturenames:
        return {**stack_env, "REDIS_URL": request.getfixturevalue("paused_redis").url}
    return stack_env


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_over_http_a_form_sent_again_after_redis_hung_is_one_email(
    paused_redis, web, code_dir, stack_env, stack_logs, mail_inbox
):
    # The worker starts once Redis is back: what is checked here is what the web app queued.
    import os
    import re
    import signal

    import requests

    session = requests.Session()

    def send(fields):
        return session.post(f"{web}/mailers", data=fields, allow_redirects=False, timeout=10)

    def fresh_form(email):
        page = session.get(f"{web}/", timeout=10).text
        values = read_page(page).values
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        fields = {"mailers[email]": email, "mailers[thought]": "Illusions, Michael", "submission": values.get("submission") or ""}
        return {**fields, "csrf_token": token.group(1)} if token else fields

    warm = send(fresh_form("warm@example.com"))  # the web's connection to Redis is open now
    form = fresh_form("gob@example.com")
    os.kill(paused_redis.service.process.pid, signal.SIGSTOP)
    try:
        hung = send(form)  # the message may sit in the socket, unanswered
        time.sleep(max(0.0, 2.0 - hung.elapsed.total_seconds()))  # stopped for about 2 s, as in issue 12
    finally:
        os.kill(paused_redis.service.process.pid, signal.SIGCONT)
    again = send(form)  # the user, told to try again, does
    with worker_service(code_dir, stack_env, stack_logs) as worker:
        messages = mail_inbox.wait_for(2, timeout=15)
        time.sleep(1.5)  # for a copy that should not come
        messages = mail_inbox.messages()
        log = worker.output()
    to_gob = [m for m in messages if m["recipients"]["to"] == ["gob@example.com"]]

    assert (warm.status_code, hung.status_code, again.status_code) == (303, 503, 303), (
        f"answers: {warm.status_code} with Redis up, {hung.status_code} with Redis stopped, "
        f"{again.status_code} once it was back; expected 303, 503, 303.\n{hung.text[:300]}"
    )
    assert "nothing was sent" not in read_page(hung.text).shown, (
        "the 503 page says nothing was sent, but the message may have reached Redis"
    )
    assert len(to_gob) == 1, (
        f"the form was sent, answered 503 while Redis was stopped, and sent again: "
        f"{len(to_gob)} emails arrived for it; expected one. All emails' recipients: "
        f"{[m['recipients']['to'] for m in messages]}. The worker's log:\n{log[-1500:]}"
    )
