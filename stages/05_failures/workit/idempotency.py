"""Send each job's email once: Redis remembers which jobs have sent theirs.

TODO(05_failures): task 6 of the README. A job can run more than once: a retry, or a
redelivery after its worker died. This module answers one question for the task, "has this
job sent its email yet?", and keeps the answer where every worker can see it.
"""

from __future__ import annotations

from workit.redis_client import get_redis  # noqa: F401  (NEW(05_failures): the app's Redis client)

# NEW(05_failures): given: the name of a job's key, and how long Redis keeps it.
SENT_PREFIX = "workit:sent:"
REMEMBER_FOR = 7 * 24 * 3600  # seconds: far longer than any retry or redelivery takes


def sent_key(task_id: str) -> str:
    return f"{SENT_PREFIX}{task_id}"


def already_sent(task_id: str) -> bool:
    """Whether the job `task_id` has sent its email already (README, task 6)."""
    raise NotImplementedError("Step 05_failures, task 6: write already_sent() in workit/idempotency.py")


def mark_sent(task_id: str) -> None:
    """Remember for REMEMBER_FOR seconds that the job `task_id` sent its email (README, task 6)."""
    raise NotImplementedError("Step 05_failures, task 6: write mark_sent() in workit/idempotency.py")
