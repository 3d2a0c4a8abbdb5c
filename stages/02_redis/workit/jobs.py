"""A job queue in one Redis list: what Celery will do for us from step 03, done by hand.

A job is a small JSON message naming what to run and with which arguments. `enqueue` puts
one in, `next_job` takes the oldest one out, waiting for it if need be: first in, first out.
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
    """Put the job `name(*args)` at the back of the queue (README, task 5)."""
    raise NotImplementedError("Step 02_redis, task 5: write enqueue() in workit/jobs.py")


def next_job(client: redis.Redis, timeout: float) -> Job | None:
    """The oldest job on the queue, or None after `timeout` seconds (README, task 6)."""
    raise NotImplementedError("Step 02_redis, task 6: write next_job() in workit/jobs.py")
