#> file 03-
#> extra 03 -05:stage
"""The background job: send the randomness email, in a worker instead of in the request."""
#> or todo 03
"""The background job: the randomness email, sent by a worker instead of by the request."""
#> or extra 07
"""The background jobs: look up the GIF, then send the randomness email; each survives what
goes wrong on its way.

Two tasks, chained: look_up_gif (queue giphy) finds the GIF, keeps it on the request's row and
posts send_randomness_email (queue email). Only the request's id travels, in both messages.
The lookup has a rate limit and time limits, the email a time limit (workit/celery_app.py).
#> or extra 05 -07:stage
"""The background job: send the randomness email, and survive what goes wrong on the way.
#> or extra 05

- Giphy slow or down (a timeout, a 5xx, a 429): the task tries again later, each time waiting
  longer; after GIPHY_RETRIES retries the email goes out without a GIF. A bad key or an answer
  we cannot read does not get better with time: no GIF at once.
- SMTP down or refusing: the task tries again with exponential backoff and jitter, at most
  MAX_RETRIES times, and then fails for good (the worker logs it). Each wait is at least half
  its backoff, so that the retries span minutes (smtp_wait) whatever the jitter draws.
- A worker killed in the middle of a job: with late acknowledgement the message stays in
#> or extra 06
  Redis until the task has finished, and comes back to another worker. The request's row
  (workit/models.py) says whether its email went out already: it is sent once.

#> or extra 05 -06:stage
  Redis until the task has finished, and comes back to another worker. The idempotency key
  (workit/idempotency.py) makes sure the email of a job is sent once.
#> or extra 07
Each job carries the request's id, nothing else. The tasks read the rest from the database
and write each step there (looking up, ready for the email, sending, then sent or failed):
the status page reads it. Each job claims its step (workit/steps.py, claimed): it moves the row
from the status it expects to the next in one conditional UPDATE, and works only when it won.
So two copies of a job (a lookup that came back after posting, a job posted again) send one
email. An email job whose worker died while sending comes back marked redelivered and takes its
own claim again, so its email goes out; if the mail server had taken it before the crash, it goes
out twice: at least once.
#> or extra 06 -07:stage
The job carries the request's id, nothing else. The task reads the rest from the database
and writes each step there (sending, then sent or failed): the status page reads it.
#> or extra 05
"""
#> end

from __future__ import annotations

#> task 03.1 & stub 05.1 -05:stage
from celery import shared_task
#> or extra 03 & stub 05.1 -05:stage

#> or task 03.1 & stub 05.1 -05:stage
from workit import notifier
#> or extra 03 & stub 05.1 -05:stage


#> or stub 03.3

#> or stub 05.1
# TODO(05_failures): tasks 1 and 2 of the README: a job that meets a mail server down tries
# again later, and a job whose worker dies is not lost.
#> or task 03.1 & stub 05.1 -05:stage
@shared_task
#> or stub 05.1 03-05:stage
def send_randomness_email(email: str, thought: str) -> None:
#> or stub 03.3
    """Send step 01's randomness email, as a Celery task (README, task 3).

    What `perform(email, thought)` was to a Sidekiq worker.
    """
    raise NotImplementedError(
        "Step 03_worker, task 3: make send_randomness_email() in workit/tasks.py a Celery task "
        "that sends step 01's email. See stages/03_worker/README.md"
    )
#> or task 05.1
import random
import smtplib

from celery import Task, shared_task
#> or stub 05.1
    """Send one job's randomness email, whatever goes wrong (README, tasks 1, 2, 4, 5, 7)."""
    # TODO(05_failures): tasks 4 and 5: a Giphy problem costs the GIF at most, never the email.
    # TODO(05_failures): task 7: a job that runs twice sends its email once (workit/idempotency.py).
#> or task 07.1
from celery.exceptions import SoftTimeLimitExceeded
#> or task 05.1
from celery.utils.log import get_task_logger
from celery.utils.time import get_exponential_backoff_interval

#> or task 06.4
from workit import notifier
from workit.db import db
#> or task 05.1 & stub 06.4 -06:stage
from workit import idempotency, notifier
#> or task 05.1 & stub 07.1 -07:stage
from workit.giphy import GiphyError
#> or task 07.1
from workit.models import FAILED, LOOKING_UP, QUEUED, READY, SENDING, SENT
from workit.steps import GIPHY_RETRIES, claimed, gif_or_retry, the_request
#> or task 06.4 & stub 07.1 -07:stage
from workit.models import FAILED, SENDING, SENT, MailerRequest
#> or task 05.1

logger = get_task_logger(__name__)

MAX_RETRIES = 6  # then the job fails for good
#> or task 05.1 -07:stage
GIPHY_RETRIES = 3  # retries that wait for Giphy; then the email goes out without a GIF
#> or task 05.1
BACKOFF_MAX = 600  # seconds: no single wait is longer than this
#> or task 06.4
MAIL_SERVER_FAILED = "We could not hand your email to the mail server, though we tried several times."
#> or extra 06

#> or task 05.1
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
#> or stub 06.4
# TODO(06_status): task 4 of the README: the job takes a request's id, and its request's row
# says how far it got.
#> or task 05.1 & stub 06.4 -06:stage
def send_randomness_email(self: Task, email: str, thought: str) -> None:
#> or task 03.1 & stub 06.4 -06:stage
    # Two short strings: they travel to the worker as JSON in the task's message.
#> or task 05.1 & stub 06.4 -06:stage
    job = self.request.id
#> or task 05.7 & stub 06.4 -06:stage
    if idempotency.already_sent(job):
        logger.info("job %s: its email was sent already, not sending it again", job)
        return
#> or task 03.1 & stub 05.1 -05:stage
    notifier.send_randomness_email(email, thought)
#> or task 06.4
def send_randomness_email(self: Task, request_id: str) -> None:
#> or task 07.1
    # One short id travels in the message; the address, the thought and the GIF are in the row.
    record = the_request(request_id)
#> or task 06.4 & stub 07.1 -07:stage
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
#> or task 07.1
    if record is None:
        return
    # Claim the send: only the job that moves the row from ready to sending sends. Another copy
    # of this job (posted twice, or taken at the same moment by another pool process) finds it
    # claimed and sends nothing. But a message that came back because its worker died mid-send
    # (late acks, reject_on_worker_lost: the broker marks it redelivered) finds the claim of its
    # own run, which died: it takes it again. Whether that run's email reached the mail server,
    # nobody can tell: sending is at least once, where leaving the row would be never. (Only a
    # dead worker's message comes back: the visibility timeout outlasts any job, celery_app.py.)
    came_back = bool((self.request.delivery_info or {}).get("redelivered"))
    if not claimed(request_id, (READY, SENDING) if came_back else (READY,), SENDING):
        logger.info("request %s: another job has its email in hand, not sending it", request_id)
        return
#> or stub 07.1
    # TODO(07_scale): task 1, the lookup is look_up_gif's now: this job reads the GIF from the row.
#> or task 05.4
    try:
#> or task 06.4 & stub 07.1 -07:stage
        gif_url: str | None = notifier.find_gif(record.thought)
#> or task 05.4 & stub 06.4 -06:stage
        gif_url: str | None = notifier.find_gif(thought)
#> or task 05.4 & stub 07.1 -07:stage
    except GiphyError as problem:
#> or task 05.5 & stub 07.1 -07:stage
        if problem.transient and self.request.retries < GIPHY_RETRIES:
            wait = get_exponential_backoff_interval(
                factor=1, retries=self.request.retries, maximum=BACKOFF_MAX, full_jitter=True
            )
#> or task 06.4 & stub 07.1 -07:stage
            logger.warning("request %s: Giphy failed; trying again in %s s", request_id, wait)
#> or task 05.5 & stub 06.4 -06:stage
            logger.warning("job %s: Giphy failed (%s); trying again in %s s", job, problem, wait)
#> or task 05.5 & stub 07.1 -07:stage
            raise self.retry(exc=problem, countdown=wait) from problem
#> or task 06.4 & stub 07.1 -07:stage
        logger.warning("request %s: no GIF (Giphy failed for good); sending the email without one", request_id)
#> or task 05.4 & stub 06.4 -06:stage
        logger.warning("job %s: no GIF (%s); sending the email without one", job, problem)
#> or task 05.4 & stub 07.1 -07:stage
        gif_url = None
#> or task 05.1 & stub 07.1 -07:stage
    try:
#> or task 06.4 & stub 07.1 -07:stage
        notifier.send_email(record.email, record.thought, gif_url)
#> or task 05.4 & stub 06.4 -06:stage
        notifier.send_email(email, thought, gif_url)
#> or task 05.1 & stub 05.4
        notifier.send_randomness_email(email, thought)
#> or task 07.1
        notifier.send_email(record.email, record.thought, record.gif_url)
#> or task 05.1
    except (smtplib.SMTPException, OSError) as problem:
#> or task 06.4
        if self.request.retries >= self.max_retries:
            # The last try: the job fails for good, and the page must say so.
            record.status, record.error = FAILED, MAIL_SERVER_FAILED
            db.session.commit()
            raise
#> or task 05.1
        wait = smtp_wait(self, self.request.retries)
        # The type and the SMTP code only: a server's reply can quote the address.
        what = f"{type(problem).__name__} {getattr(problem, 'smtp_code', '')}".strip()
#> or task 06.4
        logger.warning("request %s: SMTP failed (%s); trying again in %s s", request_id, what, wait)
#> or task 05.1 & stub 06.4 -06:stage
        logger.warning("job %s: SMTP failed (%s); trying again in %s s", job, what, wait)
#> or task 07.1
        # Give the claim back: the same job, when it comes back for its retry, claims it again.
        claimed(request_id, (SENDING,), READY)
#> or task 05.1
        raise self.retry(exc=problem, countdown=wait) from problem
#> or task 06.4 & stub 07.1 -07:stage
    record.status, record.gif_url, record.error = SENT, gif_url, None
#> or task 05.7 & stub 06.4 -06:stage
    idempotency.mark_sent(job)
#> or task 07.1
    record.status, record.error = SENT, None
#> or task 06.4
    db.session.commit()
#> or 07-


#> or todo 07
# TODO(07_scale): task 1, the lookup, the first of the two jobs.
#> or 07-
@shared_task(
    bind=True,
    max_retries=GIPHY_RETRIES,
#> or task 07.1
    # As for the email: a job whose worker dies comes back (and the row says how far it got).
    acks_late=True, reject_on_worker_lost=True,
#> or stub 07.1
    # TODO(07_scale): task 4, when its message is acknowledged.
#> or 07-
)
def look_up_gif(self: Task, request_id: str) -> None:
#> or task 07.1
    record = the_request(request_id)
    if record is None:
        return
    # Claim the lookup: a request still queued, or looking up (this job's retry, or its run that
    # died). A row already ready, sending or sent is past the lookup: a copy of this job that
    # comes back after posting the email's job posts nothing.
    if not claimed(request_id, (QUEUED, LOOKING_UP), LOOKING_UP):
        logger.info("request %s: past the lookup already, posting nothing", request_id)
        return
    try:
        gif_url = gif_or_retry(self, request_id, record.thought)
    except SoftTimeLimitExceeded:
        # The soft time limit: Giphy is too slow today. An email without a GIF beats none.
        logger.warning("request %s: no GIF (the lookup ran out of time); sending the email without one", request_id)
        gif_url = None
    # The GIF is kept on the row, committed, before the email's job is posted: that job, like
    # this one, carries the id alone, and its worker reads the GIF from the row. Only the lookup
    # that moves the row on to ready posts it: another copy, looking up beside this one, does not.
    if claimed(request_id, (LOOKING_UP,), READY, gif_url=gif_url):
        send_randomness_email.delay(request_id)
    else:
        logger.info("request %s: another lookup got there first, posting nothing", request_id)
#> or stub 07.1
    """Find the request's GIF, keep it on its row, then post the email's job (README, tasks 1 and 3)."""
    raise NotImplementedError("Step 07_scale, task 1: write look_up_gif(request_id) in workit/tasks.py")
#> end
