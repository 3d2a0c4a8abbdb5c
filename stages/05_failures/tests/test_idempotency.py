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
IDEMPOTENCY = (
    "Before sending, return if idempotency.already_sent(self.request.id); after the email "
    "has gone, idempotency.mark_sent(self.request.id) (write both in workit/idempotency.py)."
)


def describe(job) -> str:
    return f"ended {job.state}" + (f" with {type(job.error).__name__}: {job.error}" if job.error else "")


def keys_for(fake_redis, task_id: str) -> dict[str, int]:
    """Each Redis key that names the job, with its time to live in seconds (-1: forever)."""
    client = fake_redis.client(decode_responses=True)
    return {key: client.ttl(key) for key in client.keys(f"*{task_id}*")}


def test_a_job_run_twice_sends_one_email(run_job, giphy, inbox):
    giphy.search_finds(GIF)
    job_id = str(uuid.uuid4())

    first = run_job(EMAIL, THOUGHT, task_id=job_id)
    again = run_job(EMAIL, THOUGHT, task_id=job_id)

    sent = len(inbox.deliveries)
    assert sent == 1, (
        f"the same job (task id {job_id}) ran twice, as a redelivered message does, and "
        f"{sent} emails arrived; expected one. {IDEMPOTENCY}"
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
        f"expected one. {IDEMPOTENCY}"
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

    assert failed.state == "FAILURE" and sent_while_down == 0, (
        f"with SMTP down the job {describe(failed)} and {sent_while_down} email(s) arrived; "
        "expected FAILURE and none (see test_smtp.py)."
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
        f"id, e.g. workit:sent:<task id>. {IDEMPOTENCY}"
    )
    ttls = sorted(keys.values())
    assert all(3600 <= ttl <= 30 * 24 * 3600 for ttl in ttls), (
        f"the Redis key(s) {sorted(keys)} expire in {ttls} seconds (-1: never); expected an "
        "expiry between an hour and a month (a week is good): long enough to outlast any "
        "retry or redelivery, short enough that Redis does not keep one key per email "
        "forever. SET key value EX seconds: get_redis().set(key, '1', ex=7 * 24 * 3600)."
    )


def test_nothing_is_marked_sent_before_the_email_goes(run_job, giphy, inbox, smtp, fake_redis):
    giphy.search_finds(GIF)
    smtp.down()

    job = run_job(EMAIL, THOUGHT)

    keys = keys_for(fake_redis, job.task_id)
    assert job.retries, (
        f"with SMTP down the job {describe(job)} without retrying; expected retries (see "
        "test_smtp.py)."
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
        f"redelivery would send it again. {IDEMPOTENCY}"
    )
    assert not during_send[0], (
        f"while the email was being handed to the SMTP server, Redis already held "
        f"{sorted(during_send[0])!r} for job {job_id}. A key claimed before sending (even one "
        "deleted again when sending fails) stays behind if the worker is killed mid-send, and "
        "the redelivered job then skips an email nobody sent. Write it after send_email returns."
    )
