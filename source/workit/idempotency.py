#> file 05-
"""Send each job's email once: Redis remembers which jobs have sent theirs.

#> task 05.6
A job can run more than once. Late acknowledgement (see workit/tasks.py) means a job whose
worker died comes back, and it may come back after the email had already gone out. Every job
has an id, the task id that .delay() gave it, and it keeps that id on each retry and each
redelivery. So once the email is sent, the task writes `workit:sent:<task id>` into Redis, and
before sending it looks for that key.

Why after sending, not before: a key written before sending says "sent" for an email that a
failing SMTP server or a killed worker never sent, and every retry then skips it: the email is
lost. Written after, the only gap is a worker killed between the send and the write, where a
redelivery sends a second copy. One email too many, in a rare crash, beats one too few.
#> or stub 05.6
TODO(05_failures): task 6 of the README. A job can run more than once: a retry, or a
redelivery after its worker died. This module answers one question for the task, "has this
job sent its email yet?", and keeps the answer where every worker can see it.
#> end
"""

from __future__ import annotations

#> task 05.6
from workit.redis_client import get_redis
#> or extra 05

#> or stub 05.6
from workit.redis_client import get_redis  # noqa: F401  (NEW(05_failures): the app's Redis client)

# NEW(05_failures): given: the name of a job's key, and how long Redis keeps it.
#> end
SENT_PREFIX = "workit:sent:"
REMEMBER_FOR = 7 * 24 * 3600  # seconds: far longer than any retry or redelivery takes


def sent_key(task_id: str) -> str:
    return f"{SENT_PREFIX}{task_id}"


def already_sent(task_id: str) -> bool:
    #> task 05.6
    """Whether the job `task_id` has sent its email already."""
    return bool(get_redis().exists(sent_key(task_id)))
    #> or stub 05.6
    """Whether the job `task_id` has sent its email already (README, task 6)."""
    raise NotImplementedError("Step 05_failures, task 6: write already_sent() in workit/idempotency.py")
    #> end


def mark_sent(task_id: str) -> None:
    #> task 05.6
    """Remember that the job `task_id` has sent its email; Redis forgets it after a week."""
    get_redis().set(sent_key(task_id), "1", ex=REMEMBER_FOR)
    #> or stub 05.6
    """Remember for REMEMBER_FOR seconds that the job `task_id` sent its email (README, task 6)."""
    raise NotImplementedError("Step 05_failures, task 6: write mark_sent() in workit/idempotency.py")
    #> end
