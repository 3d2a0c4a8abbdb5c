#> file 02-
"""A job queue in one Redis list: what Celery will do for us from step 03, done by hand.

#> extra 02
A job is a small JSON message, {"job": name, "args": [...]}. `enqueue` pushes it on the
left of the list (LPUSH); a worker takes the oldest one from the right (BRPOP), waiting
until one arrives or the timeout runs out. First in, first out.
#> or todo 02
A job is a small JSON message naming what to run and with which arguments. `enqueue` puts
one in, `next_job` takes the oldest one out, waiting for it if need be: first in, first out.
#> end
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
    #> task 02.5
    client.lpush(JOBS_KEY, json.dumps({"job": name, "args": list(args)}))
    #> or stub 02.5
    """Put the job `name(*args)` at the back of the queue (README, task 5)."""
    raise NotImplementedError("Step 02_redis, task 5: write enqueue() in workit/jobs.py")
    #> end


def next_job(client: redis.Redis, timeout: float) -> Job | None:
    #> task 02.6
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
    #> or stub 02.6
    """The oldest job on the queue, or None after `timeout` seconds (README, task 6)."""
    raise NotImplementedError("Step 02_redis, task 6: write next_job() in workit/jobs.py")
    #> end
