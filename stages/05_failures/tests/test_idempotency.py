"""One job, one email: however many times the job runs.

With late acknowledgement (test_redelivery.py) a job can run twice: its worker died after
sending but before saying "done", or the message came back while the first run was still
going. The job's id (the task id .delay() gave it) stays the same on every retry and every
redelivery, so the task writes "sent" for that id into Redis once the email is out, and
looks for it before sending. Written after the send, never before: an attempt that failed
has sent nothing, and its retry must still send.
"""

from __future__ import annotations

import time
import uuid

import pytest
from celery.signals import task_postrun

from kata.broker import task_failures

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
TASK_6 = "README, task 6: already_sent() and mark_sent() in workit/idempotency.py"
TASK_7 = (
    "README, task 7: the task asks whether its job has sent its email already, and says so "
    "once it has (workit/tasks.py, with task 6)"
)


def describe(job) -> str:
    return f"ended {job.state}" + (f" with {type(job.error).__name__}: {job.error}" if job.error else "")


def keys_for(fake_redis, task_id: str) -> dict[str, int]:
    """Each Redis key that names the job, with its time to live in seconds (-1: forever)."""
    client = fake_redis.client(decode_responses=True)
    return {key: client.ttl(key) for key in client.keys(f"*{task_id}*")}


def test_already_sent_is_true_once_mark_sent_was_called_for_that_job(app, fake_redis):
    from workit import idempotency

    job_id, other_id = str(uuid.uuid4()), str(uuid.uuid4())
    with app.app_context():
        before = idempotency.already_sent(job_id)
        idempotency.mark_sent(job_id)
        after, other = idempotency.already_sent(job_id), idempotency.already_sent(other_id)

    assert (bool(before), bool(after), bool(other)) == (False, True, False), (
        f"already_sent(job) answered {before!r} before mark_sent(job) and {after!r} after it, "
        f"and {other!r} for a job never marked; expected False, True, False. {TASK_6}."
    )


def test_already_sent_looks_in_redis(app, fake_redis):
    from workit import idempotency

    job_id = str(uuid.uuid4())
    fake_redis.client().set(idempotency.sent_key(job_id), "1")  # as another worker process would

    with app.app_context():
        answer = idempotency.already_sent(job_id)

    assert answer, (
        f"Redis holds {idempotency.sent_key(job_id)!r}, written by another process, and "
        f"already_sent() answered {answer!r}; expected True. Ask Redis (get_redis(), the app's "
        f"client) whether the key sent_key(task_id) exists: {TASK_6}."
    )


def test_mark_sent_writes_the_job_key_for_a_week(app, fake_redis):
    from workit import idempotency

    job_id = str(uuid.uuid4())
    with app.app_context():
        idempotency.mark_sent(job_id)

    client = fake_redis.client(decode_responses=True)
    key = idempotency.sent_key(job_id)
    assert client.exists(key), (
        f"after mark_sent({job_id!r}) Redis holds no {key!r} (keys: {sorted(client.keys('*'))}); "
        f"expected that key, in the app's Redis (get_redis()). {TASK_6}."
    )
    ttl = client.ttl(key)
    assert idempotency.REMEMBER_FOR - 60 <= ttl <= idempotency.REMEMBER_FOR, (
        f"{key!r} expires in {ttl} seconds (-1: never); expected REMEMBER_FOR "
        f"({idempotency.REMEMBER_FOR} s, a week). Give it its expiry when you write it: "
        f"Redis's SET takes one (EX seconds), and so does redis-py's command for it. {TASK_6}."
    )


def test_a_job_run_twice_sends_one_email(run_job, giphy, inbox):
    giphy.search_finds(GIF)
    job_id = str(uuid.uuid4())

    first = run_job(EMAIL, THOUGHT, task_id=job_id)
    again = run_job(EMAIL, THOUGHT, task_id=job_id)

    sent = len(inbox.deliveries)
    assert sent == 1, (
        f"the same job (task id {job_id}) ran twice, as a redelivered message does, and "
        f"{sent} emails arrived; expected one. {TASK_7}."
    )
    assert (first.state, again.state) == ("SUCCESS", "SUCCESS"), (
        f"the job ended {first.state}, then {again.state} the second time; expected SUCCESS "
        "both times: finding the email already sent is no error, the job is simply done "
        f"({again.error!r})."
    )


def test_a_real_worker_given_the_same_job_twice_sends_once(app, celery_of, giphy, inbox, broker, run_worker):
    from workit.tasks import send_randomness_email

    giphy.search_finds(GIF)
    job_id = str(uuid.uuid4())
    for _ in range(2):  # the same message twice in the queue, as after a redelivery
        send_randomness_email.apply_async((EMAIL, THOUGHT), task_id=job_id)
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

    assert finished == [job_id, job_id] and not failures, (
        f"the worker finished {len(finished)} of the 2 messages (task errors: {failures!r}); "
        "expected both within 5 s, without errors."
    )
    assert len(inbox.deliveries) == 1, (
        f"a real worker got the job {job_id} twice and {len(inbox.deliveries)} emails arrived; "
        f"expected one. {TASK_7}."
    )


@pytest.mark.given  # true before idempotency; it must stay true with it
def test_an_attempt_that_failed_does_not_count_as_sent(run_job, giphy, inbox, smtp):
    giphy.search_finds(GIF)
    job_id = str(uuid.uuid4())
    smtp.down()
    failed = run_job(EMAIL, THOUGHT, task_id=job_id)  # every retry fails: the job fails
    sent_while_down = len(inbox.deliveries)
    smtp.up()

    again = run_job(EMAIL, THOUGHT, task_id=job_id)  # the same job, delivered again

    swallowed = failed.state == "SUCCESS" and sent_while_down == 0 and not failed.retries
    assert failed.state == "FAILURE" and sent_while_down == 0, (
        f"with SMTP down the job {describe(failed)} after {len(failed.retries)} retries, and "
        f"{sent_while_down} email(s) arrived; expected FAILURE and none (see test_smtp.py)."
        + (
            " It sent nothing and never retried: the SMTP error was caught and the task "
            "returned, so Celery records a lost email as sent. README, task 1: an SMTP or "
            "network error makes the job retry, and after the last retry it fails."
            if swallowed
            else " A job that sent nothing yet ended SUCCESS: did a retry find it marked sent? "
            "Mark the job sent only AFTER the email has gone, never when a send failed."
            if failed.state == "SUCCESS" and sent_while_down == 0
            else ""
        )
    )
    assert len(inbox.deliveries) == 1, (
        f"the job {job_id} failed to send while SMTP was down; delivered again once SMTP was "
        f"back, it {describe(again)} and {len(inbox.deliveries)} email(s) arrived; expected "
        "one. Mark the job sent only AFTER the email has gone: marked before, a send that "
        "fails (or a worker killed mid-send) leaves a job that says 'sent' and an email that "
        "never went out."
    )


def test_redis_remembers_a_sent_job_for_a_while(run_job, giphy, inbox, fake_redis):
    giphy.search_finds(GIF)
    job = run_job(EMAIL, THOUGHT)

    keys = keys_for(fake_redis, job.task_id)

    assert job.state == "SUCCESS" and len(inbox.deliveries) == 1, (
        f"the job {describe(job)}; expected it to send its email (see test_given.py)."
    )
    assert keys, (
        f"after the job {job.task_id} sent its email, no Redis key names it. The worker "
        "remembers sent jobs in Redis, where every worker process (and the next one, after a "
        "crash) can see them: a set in memory is gone with its process. Key it by the task "
        f"id: idempotency.sent_key(task id). {TASK_7}."
    )
    ttls = sorted(keys.values())
    assert all(3600 <= ttl <= 30 * 24 * 3600 for ttl in ttls), (
        f"the Redis key(s) {sorted(keys)} expire in {ttls} seconds (-1: never); expected an "
        "expiry between an hour and a month (a week is good): long enough to outlast any "
        "retry or redelivery, short enough that Redis does not keep one key per email "
        "forever. Redis's SET takes the expiry with the value (EX seconds), and so does "
        "redis-py's command for it; idempotency.REMEMBER_FOR is a week."
    )


def test_nothing_is_marked_sent_before_the_email_goes(run_job, giphy, inbox, smtp, fake_redis):
    giphy.search_finds(GIF)
    smtp.down()

    job = run_job(EMAIL, THOUGHT)

    keys = keys_for(fake_redis, job.task_id)
    assert job.retries, (
        f"with SMTP down the job {describe(job)} without retrying; expected retries (README, "
        "task 1, and test_smtp.py)."
    )
    assert not keys, (
        f"the job {job.task_id} retried {len(job.retries)} time(s) and sent nothing (SMTP was "
        f"down), yet Redis holds {sorted(keys)!r} for it. Write the 'sent' key after "
        "notifier.send_email(...) returns, never before: a key claimed first makes every "
        "retry skip an email that was never sent."
    )


def test_the_sent_key_is_written_after_the_email_went_out(run_job, giphy, inbox, fake_redis):
    giphy.search_finds(GIF)
    job_id = str(uuid.uuid4())
    during_send: list[dict[str, int]] = []
    inbox.while_receiving(lambda: during_send.append(keys_for(fake_redis, job_id)))

    job = run_job(EMAIL, THOUGHT, task_id=job_id)

    assert during_send and len(inbox.deliveries) == 1, (
        f"the job {describe(job)} and offered {len(during_send)} email(s); expected one email."
    )
    assert keys_for(fake_redis, job_id), (
        f"the job {job_id} sent its email, and Redis holds no key for it afterwards: a "
        f"redelivery would send it again. {TASK_7}."
    )
    assert not during_send[0], (
        f"while the email was being handed to the SMTP server, Redis already held "
        f"{sorted(during_send[0])!r} for job {job_id}. A key claimed before sending (even one "
        "deleted again when sending fails) stays behind if the worker is killed mid-send, and "
        "the redelivered job then skips an email nobody sent. Write it after send_email returns."
    )
