#> file 07-
#> extra 07
"""One kind of worker per queue: `python -m workit.workers giphy` or `... email` starts it.

A lookup spends its time waiting for Giphy, not computing: threads wait well, many at once, in
one process. Sending is short, and its time limit must be enforced: only the prefork pool
(processes) can stop a task that has run too long, and a few processes are enough for it.
Little's law sizes a pool: slots needed = jobs arriving per second x seconds per job.
#> or todo 07
"""NEW(07_scale). One kind of worker per queue: `python -m workit.workers giphy` or `... email`
starts it, with the pool and the concurrency that suit its work (README, task 5).
#> end
"""

from __future__ import annotations

#> task 07.5
import os
#> end
import sys
from dataclasses import dataclass

#> task 07.2 -07
from workit.celery_app import EMAIL_QUEUE, GIPHY_QUEUE
#> or stub 07.2
from workit.celery_app import EMAIL_QUEUE, GIPHY_QUEUE  # noqa: F401  (for WORKERS, task 5)
#> or 08-
from workit.celery_app import EMAIL_QUEUE, GIPHY_QUEUE, MAINTENANCE_QUEUE  # NEW(08_schedule)
#> end


@dataclass(frozen=True)
#> extra 07
class Worker:
#> or todo 07
class Worker:  # NEW(07_scale): given
#> end
    """How the workers of one queue run: Celery's pool, and how many tasks at once."""

    pool: str
    concurrency: int


#> task 07.5
WORKERS = {
    GIPHY_QUEUE: Worker(pool="threads", concurrency=64),
    EMAIL_QUEUE: Worker(pool="prefork", concurrency=2),
#> or stub 07.5
# TODO(07_scale): task 5, how the workers of each queue run: queue name -> Worker.
WORKERS: dict[str, Worker] = {}
#> or 08-
    # NEW(08_schedule): the clock's jobs: one at a time, in prefork, where their time limits are enforced.
    MAINTENANCE_QUEUE: Worker(pool="prefork", concurrency=1),
#> or task 07.5
}
#> end


def worker_argv(queue: str) -> list[str]:
    #> task 07.5
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


    #> or stub 07.5
    """The `celery worker` arguments of a worker that reads `queue` alone (README, task 5)."""
    raise NotImplementedError("Step 07_scale, task 5: write worker_argv(queue) in workit/workers.py")


# NEW(07_scale): given.
    #> end
def main(argv: list[str] | None = None) -> None:
    """`python -m workit.workers QUEUE [celery worker options...]`: that queue's worker."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in WORKERS:
        raise SystemExit(f"usage: python -m workit.workers {{{','.join(WORKERS)}}} [celery worker options]")
    #> task 09.7
    # Celery answers SIGTERM with a warm shutdown, which waits for every running job however long,
    # and a deploy's SIGKILL leaves those jobs in Redis until the visibility timeout. A worker
    # of processes can cut a job short and hand it back: there SIGTERM starts the cold shutdown
    # (after the soft shutdown's window, celery_app.py). A thread cannot be stopped from outside,
    # so the giphy worker keeps the warm one. billiard reads this once, as the worker starts.
    if WORKERS[args[0]].pool == "prefork":
        os.environ.setdefault("REMAP_SIGTERM", "SIGQUIT")
    #> end
    from workit.worker import celery_app

    celery_app.worker_main([*worker_argv(args[0]), *args[1:]])


if __name__ == "__main__":
    main()
