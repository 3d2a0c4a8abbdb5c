"""TODO(08_schedule): one run at a time: a lock in Redis with an expiry, for the clock's jobs.

Two beats by mistake (a rolling deploy, `worker -B` on workers that were scaled) post each
entry twice, and a slow run can overlap the next one. The first run to take the lock works;
the other sees it taken and skips, at once. The expiry frees the lock of a run that was killed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from workit.redis_client import get_redis  # noqa: F401  (the app's Redis client)

logger = logging.getLogger(__name__)

LOCK_PREFIX = "workit:lock:"


@contextmanager
def run_alone(name: str, ttl: float) -> Iterator[bool]:
    """True while this run holds the lock `name` (for `ttl` seconds at most), False if another does.

    Never waits; releases only its own lock; Redis away: raises (README, task 2).
    """
    raise NotImplementedError("Step 08_schedule, task 2: run_alone(name, ttl) in workit/locks.py")
    yield False  # (a generator: @contextmanager needs one)
