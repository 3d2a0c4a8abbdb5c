"""The background job: the randomness email, sent by a worker instead of by the request."""

from __future__ import annotations


def send_randomness_email(email: str, thought: str) -> None:
    """Send step 01's randomness email, as a Celery task (README, task 3).

    What `perform(email, thought)` was to a Sidekiq worker.
    """
    raise NotImplementedError(
        "Step 03_worker, task 3: make send_randomness_email() in workit/tasks.py a Celery task "
        "that sends step 01's email. See stages/03_worker/README.md"
    )
