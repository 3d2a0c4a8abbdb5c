"""The background job: send the randomness email, in a worker instead of in the request."""

from __future__ import annotations

from celery import shared_task

from workit import notifier


# TODO(05_failures): tasks 1 and 2 of the README: a job that meets a mail server down tries
# again later, and a job whose worker dies is not lost.
@shared_task
def send_randomness_email(email: str, thought: str) -> None:
    """Send one job's randomness email, whatever goes wrong (README, tasks 1, 2, 4, 5, 7)."""
    # TODO(05_failures): tasks 4 and 5: a Giphy problem costs the GIF at most, never the email.
    # TODO(05_failures): task 7: a job that runs twice sends its email once (workit/idempotency.py).
    # Two short strings: they travel to the worker as JSON in the task's message.
    notifier.send_randomness_email(email, thought)
