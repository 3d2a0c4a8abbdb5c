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
    client.lpush(JOBS_KEY, json.dumps({"job": name, "args": list(args)}))


def next_job(client: redis.Redis, timeout: float) -> Job | None:
    if timeout <= 0:
        # No wait: a plain pop. To Redis a blocking pop's timeout of 0 means wait for ever.
        raw = client.rpop(JOBS_KEY)
        popped = None if raw is None else (JOBS_KEY, raw)
    else:
        popped = client.brpop([JOBS_KEY], timeout=timeout)
    if popped is None:
        return None
    _key, raw = popped
    message = json.loads(raw)
    return Job(message["job"], tuple(message["args"]))
