"""The background job: send the randomness email, and survive what goes wrong on the way.

- Giphy slow or down (a timeout, a 5xx, a 429): the task tries again later, each time waiting
  longer; after GIPHY_RETRIES retries the email goes out without a GIF. A bad key or an answer
  we cannot read does not get better with time: no GIF at once.
- SMTP down or refusing: the task tries again with exponential backoff and jitter, at most
  MAX_RETRIES times, and then fails for good (the worker logs it). Each wait is at least half
  its backoff, so that the retries span minutes (smtp_wait) whatever the jitter draws.
- A worker killed in the middle of a job: with late acknowledgement the message stays in
  Redis until the task has finished, and comes back to another worker. The idempotency key
  (workit/idempotency.py) makes sure the email of a job is sent once.
"""

from __future__ import annotations

import random
import smtplib

from celery import Task, shared_task
from celery.utils.log import get_task_logger
from celery.utils.time import get_exponential_backoff_interval

from workit import idempotency, notifier
from workit.giphy import GiphyError

logger = get_task_logger(__name__)

MAX_RETRIES = 6  # then the job fails for good
GIPHY_RETRIES = 3  # retries that wait for Giphy; then the email goes out without a GIF
BACKOFF_MAX = 600  # seconds: no single wait is longer than this
SMTP_BACKOFF = 10  # seconds: the first SMTP backoff; then 20, 40, 80, 160, 320


def smtp_wait(task: Task, retries: int) -> int:
    """Seconds to wait before SMTP retry number `retries` + 1: exponential, with "equal jitter".

    The task's retry_backoff (the first backoff) doubles on each retry, up to retry_backoff_max.
    Celery's own retry_jitter (with autoretry_for) draws each wait between 0 and the backoff,
    so all of them can be near zero, and then a two-second outage uses up every retry. Here
    half the backoff is fixed and the other half drawn at random: the MAX_RETRIES waits add up
    to at least 315 s and at most 630 s, and jobs that failed together still come back at
    different moments.
    """
    backoff = get_exponential_backoff_interval(factor=task.retry_backoff, retries=retries, maximum=task.retry_backoff_max)
    fixed = backoff // 2
    return fixed + (random.randint(0, backoff - fixed) if task.retry_jitter else backoff - fixed)


@shared_task(
    bind=True,  # the task gets `self`: self.request.id, self.request.retries, self.retry
    # An SMTP error or a network error (OSError: refused, timed out, reset) is retried in the
    # task, not with autoretry_for: smtp_wait applies these three with a floor under each wait,
    # after 5-10, 10-20, 20-40, 40-80, 80-160, 160-320 s.
    retry_backoff=SMTP_BACKOFF,
    retry_backoff_max=BACKOFF_MAX,  # no wait is longer (celery_app.py keeps visibility above it)
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    # Acknowledge the message when the task has finished, not when it starts, so that a job
    # whose worker dies comes back (after the broker's visibility_timeout, see celery_app.py).
    acks_late=True,
    # ...and when a pool process is killed (SIGKILL, out of memory), give the message back.
    reject_on_worker_lost=True,
)
# TODO(06_status): task 4 of the README: the job takes a request's id, and its request's row
# says how far it got.
def send_randomness_email(self: Task, email: str, thought: str) -> None:
    # Two short strings: they travel to the worker as JSON in the task's message.
    job = self.request.id
    if idempotency.already_sent(job):
        logger.info("job %s: its email was sent already, not sending it again", job)
        return
    try:
        gif_url: str | None = notifier.find_gif(thought)
    except GiphyError as problem:
        if problem.transient and self.request.retries < GIPHY_RETRIES:
            wait = get_exponential_backoff_interval(
                factor=1, retries=self.request.retries, maximum=BACKOFF_MAX, full_jitter=True
            )
            logger.warning("job %s: Giphy failed (%s); trying again in %s s", job, problem, wait)
            raise self.retry(exc=problem, countdown=wait) from problem
        logger.warning("job %s: no GIF (%s); sending the email without one", job, problem)
        gif_url = None
    try:
        notifier.send_email(email, thought, gif_url)
    except (smtplib.SMTPException, OSError) as problem:
        wait = smtp_wait(self, self.request.retries)
        # The type and the SMTP code only: a server's reply can quote the address.
        what = f"{type(problem).__name__} {getattr(problem, 'smtp_code', '')}".strip()
        logger.warning("job %s: SMTP failed (%s); trying again in %s s", job, what, wait)
        raise self.retry(exc=problem, countdown=wait) from problem
    idempotency.mark_sent(job)
