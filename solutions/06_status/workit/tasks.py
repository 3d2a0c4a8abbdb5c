"""The background job: send the randomness email, and survive what goes wrong on the way.

- Giphy slow or down (a timeout, a 5xx, a 429): the task tries again later, each time waiting
  longer; after GIPHY_RETRIES retries the email goes out without a GIF. A bad key or an answer
  we cannot read does not get better with time: no GIF at once.
- SMTP down or refusing: the task tries again with exponential backoff and jitter, at most
  MAX_RETRIES times, and then fails for good (the worker logs it).
- A worker killed in the middle of a job: with late acknowledgement the message stays in
  Redis until the task has finished, and comes back to another worker. The request's row
  (workit/models.py) says whether its email went out already: it is sent once.

The job carries the request's id, nothing else. The task reads the rest from the database
and writes each step there (sending, then sent or failed): the status page reads it.
"""

from __future__ import annotations

import smtplib

from celery import Task, shared_task
from celery.utils.log import get_task_logger
from celery.utils.time import get_exponential_backoff_interval

from workit import notifier
from workit.db import db
from workit.giphy import GiphyError
from workit.models import FAILED, SENDING, SENT, MailerRequest

logger = get_task_logger(__name__)

MAX_RETRIES = 5  # then the job fails for good: at most 1 + 2 + 4 + 8 + 16 s of waiting in all
GIPHY_RETRIES = 3  # retries that wait for Giphy; then the email goes out without a GIF
BACKOFF_MAX = 600  # seconds: no single wait is longer than this
MAIL_SERVER_FAILED = "We could not hand your email to the mail server, though we tried several times."


@shared_task(
    bind=True,  # the task gets `self`: self.request.id, self.request.retries, self.retry
    # An SMTP error or a network error (OSError: refused, timed out, reset) is retried,
    # after 1, 2, 4, 8, 16 s..., each wait drawn at random below that (jitter), so that
    # jobs that failed together do not all come back together.
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=BACKOFF_MAX,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    # Acknowledge the message when the task has finished, not when it starts, so that a job
    # whose worker dies comes back (after the broker's visibility_timeout, see celery_app.py).
    acks_late=True,
    # ...and when a pool process is killed (SIGKILL, out of memory), give the message back.
    reject_on_worker_lost=True,
)
def send_randomness_email(self: Task, request_id: str) -> None:
    # One short id travels in the message; the address and the thought stay in the database.
    record = db.session.get(MailerRequest, request_id)
    if record is None:
        # No retry can make a missing row appear (a deleted request, a job from another
        # database): say so once and drop the job.
        logger.warning("request %s: not in the database; dropping the job", request_id)
        return
    if record.status == SENT:
        logger.info("request %s: its email was sent already, not sending it again", request_id)
        return
    record.status = SENDING
    db.session.commit()
    try:
        gif_url: str | None = notifier.find_gif(record.thought)
    except GiphyError as problem:
        if problem.transient and self.request.retries < GIPHY_RETRIES:
            wait = get_exponential_backoff_interval(
                factor=1, retries=self.request.retries, maximum=BACKOFF_MAX, full_jitter=True
            )
            logger.warning("request %s: Giphy failed; trying again in %s s", request_id, wait)
            raise self.retry(exc=problem, countdown=wait) from problem
        logger.warning("request %s: no GIF (Giphy failed for good); sending the email without one", request_id)
        gif_url = None
    try:
        notifier.send_email(record.email, record.thought, gif_url)
    except (smtplib.SMTPException, OSError):
        if self.request.retries >= self.max_retries:
            # The last try: the job fails for good, and the page must say so.
            record.status, record.error = FAILED, MAIL_SERVER_FAILED
            db.session.commit()
        raise
    record.status, record.gif_url, record.error = SENT, gif_url, None
    db.session.commit()
