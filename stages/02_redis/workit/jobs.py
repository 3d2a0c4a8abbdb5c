"""A job queue in one Redis list: what Celery will do for us from step 03, done by hand.

A job is a small JSON message, {"job": name, "args": [...]}. `enqueue` pushes it on the
left of the list (LPUSH); a worker takes the oldest one from the right (BRPOP), waiting
until one arrives or the timeout runs out. First in, first out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

JOBS_KEY = "workit:jobs"


@dataclass(frozen=True)
class Job:
    """One job taken from the queue: what to run, and with which arguments."""

    name: str
    args: tuple[str, ...]


def enqueue(client: redis.Redis, name: str, *args: str) -> None:
    """Put the job `name(*args)` at the back of the queue.

    TODO (step 02_redis): push `json.dumps({"job": name, "args": [...the args...]})` on
    the LEFT of the list JOBS_KEY: `client.lpush(JOBS_KEY, message)`.
    JSON, not pickle or str(): any worker, in any language, can read it, and only plain
    values fit in it, which is the point. Pass the email and the thought, not objects.
    """
    raise NotImplementedError(
        "Step 02_redis: write enqueue() in workit/jobs.py: LPUSH a JSON message "
        '{"job": name, "args": [...]} onto JOBS_KEY. See stages/02_redis/README.md'
    )


def next_job(client: redis.Redis, timeout: float) -> Job | None:
    """Take the oldest job off the queue, waiting up to `timeout` seconds for one.

    TODO (step 02_redis): `client.brpop([JOBS_KEY], timeout=timeout)` pops from the RIGHT
    end, the oldest job, since enqueue pushes on the left. It blocks: Redis answers as soon
    as a job arrives, or with None once `timeout` seconds pass. Otherwise it answers
    (key, message): turn the JSON message into a Job(name, args).
    Never pass timeout 0: to Redis it means "wait forever". And give the client a
    socket_timeout longer than `timeout`, or redis-py stops waiting for the answer first.
    """
    raise NotImplementedError(
        "Step 02_redis: write next_job() in workit/jobs.py: BRPOP the oldest message from "
        "JOBS_KEY with the timeout, return a Job or None. See stages/02_redis/README.md"
    )
