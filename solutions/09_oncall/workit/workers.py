"""One kind of worker per queue: `python -m workit.workers giphy` or `... email` starts it.

A lookup spends its time waiting for Giphy, not computing: threads wait well, many at once, in
one process. Sending is short, and its time limit must be enforced: only the prefork pool
(processes) can stop a task that has run too long, and a few processes are enough for it.
Little's law sizes a pool: slots needed = jobs arriving per second x seconds per job.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from workit.celery_app import EMAIL_QUEUE, GIPHY_QUEUE, MAINTENANCE_QUEUE  # NEW(08_schedule)


@dataclass(frozen=True)
class Worker:
    """How the workers of one queue run: Celery's pool, and how many tasks at once."""

    pool: str
    concurrency: int


WORKERS = {
    GIPHY_QUEUE: Worker(pool="threads", concurrency=64),
    EMAIL_QUEUE: Worker(pool="prefork", concurrency=2),
    # NEW(08_schedule): the clock's jobs: one at a time, in prefork, where their time limits are enforced.
    MAINTENANCE_QUEUE: Worker(pool="prefork", concurrency=1),
}


def worker_argv(queue: str) -> list[str]:
    """The `celery worker` arguments of a worker that reads `queue` alone."""
    worker = WORKERS[queue]
    return [
        "worker",
        f"--queues={queue}",
        f"--pool={worker.pool}",
        f"--concurrency={worker.concurrency}",
        # Each process its own name, so two workers of one queue (honcho -c) can tell apart.
        f"--hostname={queue}-{os.getpid()}@%h",
        "--loglevel=INFO",
    ]


def main(argv: list[str] | None = None) -> None:
    """`python -m workit.workers QUEUE [celery worker options...]`: that queue's worker."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in WORKERS:
        raise SystemExit(f"usage: python -m workit.workers {{{','.join(WORKERS)}}} [celery worker options]")
    # Celery answers SIGTERM with a warm shutdown, which waits for every running job however long,
    # and a deploy's SIGKILL leaves those jobs in Redis until the visibility timeout. A worker
    # of processes can cut a job short and hand it back: there SIGTERM starts the cold shutdown
    # (after the soft shutdown's window, celery_app.py). A thread cannot be stopped from outside,
    # so the giphy worker keeps the warm one. billiard reads this once, as the worker starts.
    if WORKERS[args[0]].pool == "prefork":
        os.environ.setdefault("REMAP_SIGTERM", "SIGQUIT")
    from workit.worker import celery_app

    celery_app.worker_main([*worker_argv(args[0]), *args[1:]])


if __name__ == "__main__":
    main()
