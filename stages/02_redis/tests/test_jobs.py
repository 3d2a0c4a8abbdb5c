"""enqueue() and next_job(): a first-in, first-out job queue in one Redis list, by hand."""

from __future__ import annotations

import json
import time

import pytest

from workit.jobs import Job, enqueue, next_job

KEY = "workit:jobs"
SEND = "send_randomness_email"
EMAIL = "gob@example.com"
THOUGHT = "I've made a huge mistake"
BLOCKING_POPS = ("BRPOP", "BLPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP")
T5 = "README, task 5"
T6 = "README, task 6; `kata hint 02 6` for the API"


def _timeout_of(command: tuple) -> object:
    """Where each blocking pop carries its timeout: first for BLMPOP, last for the others."""
    return command[1] if command[0] == "BLMPOP" else command[-1]


@pytest.fixture
def redis_client(fake_redis):
    """A client like get_redis() gives (str answers), that records every command it sends.

    A blocking pop with timeout 0 fails the test at once: Redis would wait forever.
    """
    client = fake_redis.client(decode_responses=True)
    client.commands = []
    send = client.execute_command

    def recording(*args, **options):
        command = (str(args[0]).upper(), *args[1:])
        client.commands.append(command)
        if command[0] in BLOCKING_POPS and float(_timeout_of(command)) == 0:
            pytest.fail(
                f"next_job sent {' '.join(map(str, command))}: to Redis, a timeout of 0 means "
                "wait FOREVER, and the worker hangs. next_job(client, 0) must not wait at all, "
                "and any other timeout must reach Redis as it was given (int(0.05) is 0). "
                "README, task 6."
            )
        return send(*args, **options)

    client.execute_command = recording
    return client


@pytest.fixture
def peek(fake_redis):
    """The test's own raw look at the fake Redis: bytes, exactly as stored."""
    return fake_redis.client()


def _decoded(raw: bytes) -> object:
    """The stored message as JSON, or a failure that says what it looks like instead."""
    if raw.startswith(b"\x80"):
        pytest.fail(
            f"enqueue stored {raw!r}, which is a pickle. Store JSON (README, task 5). A "
            "pickle can only be read by Python, and unpickling runs code that anyone who can "
            "write to Redis chose."
        )
    try:
        return json.loads(raw)
    except ValueError:
        hint = " str() or repr() of a dict uses single quotes;" if raw.startswith(b"{'") else ""
        pytest.fail(
            f"enqueue stored {raw!r}, which is not JSON.{hint} store JSON, an object with the "
            '"job" and its "args", so any worker, in any language, can read it (README, task 5).'
        )


def _as_pair(job: object) -> object:
    """(name, args) of a Job, args as a tuple whatever sequence it came in; else the value."""
    return (job.name, tuple(job.args)) if isinstance(job, Job) else job


def _job_name(message: object) -> object:
    return message.get("job") if isinstance(message, dict) else message


def test_enqueue_adds_one_item_to_the_workit_jobs_list(redis_client, peek):
    enqueue(redis_client, SEND, EMAIL, THOUGHT)

    keys = sorted(key.decode() for key in peek.keys("*"))
    assert keys == [KEY], (
        f"after enqueue(client, {SEND!r}, {EMAIL!r}, {THOUGHT!r}) Redis holds the keys "
        f"{keys!r}; expected only [{KEY!r}] (JOBS_KEY): every job waits in that one list."
    )
    kind = peek.type(KEY).decode()
    assert kind == "list", (
        f"{KEY!r} is a Redis {kind}; expected a list, one item per job (README, task 5: Redis lists)."
    )
    assert peek.llen(KEY) == 1, (
        f"one enqueue(...) left {peek.llen(KEY)} items in {KEY!r}; expected 1: the whole "
        "job is one message, one item, not one item per argument (README, task 5)."
    )
    ttl = peek.ttl(KEY)
    assert ttl == -1, (
        f"after enqueue(...) the list {KEY!r} expires in {ttl} s; expected no expiry (TTL "
        "-1): a job waits until a worker takes it, however long that is. An expiry on the "
        "queue throws away every job in it, all at once, when no worker came in time."
    )


def test_the_message_is_json_with_the_job_name_and_its_arguments(redis_client, peek):
    enqueue(redis_client, SEND, EMAIL, THOUGHT)

    stored = peek.lrange(KEY, 0, -1)
    assert len(stored) == 1, f"one enqueue(...) left {len(stored)} items in {KEY!r}; expected 1."
    message = _decoded(stored[0])
    expected = {"job": SEND, "args": [EMAIL, THOUGHT]}
    assert message == expected, (
        f"enqueue(client, {SEND!r}, {EMAIL!r}, {THOUGHT!r}) stored {message!r}; expected "
        f"exactly {expected!r}: the job's name, then its arguments as a list, in order. Only "
        "what a worker needs, as plain strings: the email and the thought, not objects."
    )


def test_enqueue_pushes_new_jobs_on_the_left(redis_client, peek):
    enqueue(redis_client, "first")
    enqueue(redis_client, "second")

    names = [_job_name(_decoded(raw)) for raw in peek.lrange(KEY, 0, -1)]
    assert names == ["second", "first"], (
        f"after enqueue(client, 'first') then enqueue(client, 'second'), "
        f"`LRANGE {KEY} 0 -1` shows the jobs {names!r}; expected ['second', 'first']: the "
        "newest job first in Redis's order, at the LEFT end, and the oldest waiting at the "
        "right end, where workers take from (Celery's Redis transport does the same). Which "
        f"end did enqueue push on? {T5} (Redis lists)."
    )


def test_next_job_takes_the_oldest_job_from_the_right_end(redis_client, peek):
    for name in ("oldest", "newer"):
        peek.lpush(KEY, json.dumps({"job": name, "args": [EMAIL]}))

    job = next_job(redis_client, 0.05)

    assert _as_pair(job) == ("oldest", (EMAIL,)), (
        f"with two jobs pushed on the left of {KEY!r}, 'oldest' then 'newer', next_job(client, "
        f"0.05) returned {job!r}; expected Job(name='oldest', args=({EMAIL!r},)). The oldest "
        "waits at the RIGHT end: a queue gives jobs out oldest first, or a busy hour starves "
        f"the first customers. Which end did next_job take from? ({T6}.)"
    )


def test_jobs_come_out_in_the_order_they_went_in(redis_client):
    sent = [("a", ("a@example.com", "one")), ("b", ()), ("c", ("x", "y", "z"))]
    for name, args in sent:
        enqueue(redis_client, name, *args)

    jobs = [next_job(redis_client, 0.05) for _ in sent]

    got = [_as_pair(job) for job in jobs]
    assert got == sent, (
        f"after enqueue(client, 'a', 'a@example.com', 'one'), enqueue(client, 'b') and "
        f"enqueue(client, 'c', 'x', 'y', 'z'), three next_job(client, 0.05) calls gave "
        f"{got!r}; expected {sent!r}. First in, first out: push on one end, take from the "
        "other. (c, b, a means both ends are the same one: that is a stack, not a queue.)"
    )
    assert all(type(job) is Job for job in jobs), (
        f"next_job returned {jobs!r}; expected workit.jobs.Job(name, args) objects."
    )
    kinds = [type(job.args).__name__ for job in jobs]
    assert kinds == ["tuple"] * len(jobs), (
        f"next_job returned Jobs whose args are {kinds!r}; expected tuples, as the Job "
        "dataclass declares (args: tuple[str, ...]); JSON gives you a list (README, task 6)."
    )


def test_jobs_come_out_oldest_first_however_many_wait(redis_client):
    """Jobs come and go in any order; whatever waits, the oldest is next."""
    got: list[object] = []

    def take() -> None:
        got.append(_as_pair(next_job(redis_client, 0.05)))

    for name in ("j1", "j2", "j3"):
        enqueue(redis_client, name, f"{name}@example.com")
    take()  # j1, with 2 left
    for name in ("j4", "j5", "j6"):
        enqueue(redis_client, name, f"{name}@example.com")
    for _ in range(5):  # 5 waiting: j2 ... j6
        take()
    last = next_job(redis_client, 0.01)

    expected = [(f"j{n}", (f"j{n}@example.com",)) for n in range(1, 7)]
    assert got == expected, (
        "enqueue j1, j2, j3, next_job, enqueue j4, j5, j6, then next_job five times gave "
        f"{[pair[0] if isinstance(pair, tuple) else pair for pair in got]!r}; expected "
        "['j1', 'j2', 'j3', 'j4', 'j5', 'j6']: however many jobs wait, and whenever they came, "
        "the oldest comes out first: push on the left, take from the right, every time."
    )
    assert last is None, (
        f"after all six jobs were taken, next_job(client, 0.01) returned {last!r}; expected "
        "None: the queue is empty."
    )


def test_next_job_waits_for_a_job_with_a_blocking_pop(redis_client):
    enqueue(redis_client, SEND, EMAIL, THOUGHT)
    redis_client.commands.clear()

    job = next_job(redis_client, 0.05)

    sent = [" ".join(map(str, command)) for command in redis_client.commands]
    blocking = [command for command in redis_client.commands if command[0] in BLOCKING_POPS]
    assert blocking, (
        f"next_job(client, 0.05) sent the commands {sent!r}; expected one command that waits "
        "on the list, carrying the 0.05: Redis answers it the moment a job arrives. Asking "
        "again and again in a loop (polling) either hammers Redis or sleeps through new jobs. "
        f"{T6} (Redis lists, blocking operations)."
    )
    timeouts = [_timeout_of(command) for command in blocking]
    assert [float(t) for t in timeouts] == [0.05], (
        f"next_job(client, 0.05) sent {sent!r}; expected one blocking pop with timeout "
        "0.05, next_job's timeout argument, so a worker can stop waiting and check in."
    )
    assert isinstance(job, Job) and job.name == SEND, (
        f"next_job(client, 0.05) returned {job!r}; expected Job(name={SEND!r}, ...)."
    )


def test_next_job_with_a_timeout_of_0_does_not_wait(redis_client):
    started = time.perf_counter()
    nothing = next_job(redis_client, 0)
    enqueue(redis_client, SEND, EMAIL, THOUGHT)
    job = next_job(redis_client, 0)
    waited = time.perf_counter() - started

    assert nothing is None and _as_pair(job) == (SEND, (EMAIL, THOUGHT)), (
        f"next_job(client, 0) returned {nothing!r} on an empty queue and {job!r} with one job "
        f"waiting; expected None, then Job({SEND!r}, ({EMAIL!r}, {THOUGHT!r})), at once. README, "
        "task 6."
    )
    assert waited < 1, f"two calls of next_job(client, 0) took {waited:.2f} s; expected no wait at all."


def test_next_job_returns_none_when_no_job_comes_in_time(redis_client):
    started = time.perf_counter()
    job = next_job(redis_client, 0.01)
    waited = time.perf_counter() - started

    assert job is None, (
        f"next_job(client, 0.01) on an empty queue returned {job!r}; expected None once the "
        "0.01 seconds have passed: nothing came."
    )
    assert waited < 1, (
        f"next_job(client, 0.01) on an empty queue took {waited:.2f} s; expected about 0.01 "
        "s: pass the timeout on to Redis instead of waiting longer (README, task 6)."
    )
