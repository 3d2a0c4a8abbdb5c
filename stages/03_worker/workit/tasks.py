"""The background job: send the randomness email, in a worker instead of in the request."""

from __future__ import annotations

from workit import notifier


# TODO(03_worker): make this a Celery task: decorate it with @shared_task (from celery).
def send_randomness_email(email: str, thought: str) -> None:
    """Send the randomness email: what `perform(email, thought)` was to a Sidekiq worker.

    TODO (step 03_worker): call step 01's `notifier.send_randomness_email(email, thought)`,
    nothing more. It reads its settings from `current_app`: your FlaskTask provides the app
    context. Keep the two string parameters: they travel to the worker as JSON, so pass
    plain values, never a request, a dict of form data or a user object.
    """
    raise NotImplementedError(
        "Step 03_worker: write send_randomness_email(email, thought) in workit/tasks.py: a "
        "@shared_task that calls notifier.send_randomness_email. See stages/03_worker/README.md"
    )
