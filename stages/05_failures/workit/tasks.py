"""The background job: send the randomness email, in a worker instead of in the request."""

from __future__ import annotations

from celery import shared_task

from workit import notifier


@shared_task
def send_randomness_email(email: str, thought: str) -> None:
    """Send the randomness email of one job.

    TODO (step 05_failures): make this job survive what goes wrong (see
    stages/05_failures/README.md):
    1. The decorator: @shared_task(bind=True, ...), so that the task gets `self` (add it as
       the first parameter). Retry SMTP and network errors: autoretry_for=
       (smtplib.SMTPException, OSError), retry_backoff=True, retry_jitter=True,
       max_retries=5. And acks_late=True, reject_on_worker_lost=True: a job whose worker
       dies comes back.
    2. Giphy: gif_url = notifier.find_gif(thought), inside try/except GiphyError as problem
       (workit/giphy.py). When problem.transient and self.request.retries is under a small
       limit (3), raise self.retry(exc=problem, countdown=...) with a countdown that grows
       (get_exponential_backoff_interval, from celery.utils.time). Otherwise log a warning
       (logger = get_task_logger(__name__)) and go on with gif_url = None.
    3. Send with notifier.send_email(email, thought, gif_url), once per job: return at once
       if idempotency.already_sent(self.request.id), and call
       idempotency.mark_sent(self.request.id) after the email has gone (workit/idempotency.py).
    """
    # Two short strings: they travel to the worker as JSON in the task's message.
    notifier.send_randomness_email(email, thought)
