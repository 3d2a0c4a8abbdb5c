"""The background job: send the randomness email, in a worker instead of in the request."""

from __future__ import annotations

from celery import shared_task

from workit import notifier


@shared_task
def send_randomness_email(email: str, thought: str) -> None:
    # Two short strings: they travel to the worker as JSON in the task's message.
    notifier.send_randomness_email(email, thought)
