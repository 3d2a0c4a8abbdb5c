"""Send each job's email once: Redis remembers which jobs have sent theirs.

A job can run more than once. Late acknowledgement (see workit/tasks.py) means a job whose
worker died comes back, and it may come back after the email had already gone out. Every job
has an id, the task id that .delay() gave it, and it keeps that id on each retry and each
redelivery. So once the email is sent, the task writes `workit:sent:<task id>` into Redis, and
before sending it looks for that key.

Why after sending, not before: a key written before sending says "sent" for an email that a
failing SMTP server or a killed worker never sent, and every retry then skips it: the email is
lost. Written after, the only gap is a worker killed between the send and the write, where a
redelivery sends a second copy. One email too many, in a rare crash, beats one too few.
"""

from __future__ import annotations

from workit.redis_client import get_redis

SENT_PREFIX = "workit:sent:"
REMEMBER_FOR = 7 * 24 * 3600  # seconds: far longer than any retry or redelivery takes


def sent_key(task_id: str) -> str:
    return f"{SENT_PREFIX}{task_id}"


def already_sent(task_id: str) -> bool:
    """Whether the job `task_id` has sent its email already."""
    return bool(get_redis().exists(sent_key(task_id)))


def mark_sent(task_id: str) -> None:
    """Remember that the job `task_id` has sent its email; Redis forgets it after a week."""
    get_redis().set(sent_key(task_id), "1", ex=REMEMBER_FOR)
