"""NEW(07_scale). One kind of worker per queue: `python -m workit.workers giphy` or `... email`
starts it, with the pool and the concurrency that suit its work (README, task 5).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from workit.celery_app import EMAIL_QUEUE, GIPHY_QUEUE  # noqa: F401  (for WORKERS, task 5)


@dataclass(frozen=True)
class Worker:  # NEW(07_scale): given
    """How the workers of one queue run: Celery's pool, and how many tasks at once."""

    pool: str
    concurrency: int


# TODO(07_scale): task 5, how the workers of each queue run: queue name -> Worker.
WORKERS: dict[str, Worker] = {}


def worker_argv(queue: str) -> list[str]:
    """The `celery worker` arguments of a worker that reads `queue` alone (README, task 5)."""
    raise NotImplementedError("Step 07_scale, task 5: write worker_argv(queue) in workit/workers.py")


# NEW(07_scale): given.
def main(argv: list[str] | None = None) -> None:
    """`python -m workit.workers QUEUE [celery worker options...]`: that queue's worker."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in WORKERS:
        raise SystemExit(f"usage: python -m workit.workers {{{','.join(WORKERS)}}} [celery worker options]")
    from workit.worker import celery_app

    celery_app.worker_main([*worker_argv(args[0]), *args[1:]])


if __name__ == "__main__":
    main()
