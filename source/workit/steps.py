#> file 07-
"""NEW(07_scale): given, but for `claimed` (task 6 of step 07). What both jobs need: their request's
row, a claim on it, and (for the lookup) step 05's way with Giphy, moved here out of the email's job.
"""

from __future__ import annotations

from celery import Task
from celery.utils.log import get_task_logger
from celery.utils.time import get_exponential_backoff_interval
#> task 09.3
from flask import current_app
#> end

from workit import notifier
#> task 09.3
from workit.budget import wait_for_budget
#> end
from workit.db import db
from workit.giphy import GiphyError
#> task 08.5
from workit.models import FINAL, MailerRequest
#> or stub 08.5 07-08:stage
from workit.models import SENT, MailerRequest
#> end

logger = get_task_logger(__name__)

GIPHY_RETRIES = 3  # retries that wait for Giphy; then the email goes out without a GIF
GIPHY_BACKOFF_MAX = 600  # seconds: no single wait for Giphy is longer than this


def the_request(request_id: str) -> MailerRequest | None:
    """The request's row; None (and a line in the log) when the job has nothing to do."""
    record = db.session.get(MailerRequest, request_id)
    if record is None:
        # No retry can make a missing row appear (a deleted request, a job from another
        # database): say so once and drop the job.
        logger.warning("request %s: not in the database; dropping the job", request_id)
        return None
    #> stub 08.5
    # TODO(08_schedule), task 5: a failed request is final too (and an expired one is sent or failed).
    #> or task 08.5
    if record.status in FINAL:
        # Sent, or given up on (failed, expired): a late copy of the job must not send now.
        logger.info("request %s: already %s, nothing to do", request_id, record.status)
    #> or stub 08.5 07-08:stage
    if record.status == SENT:
        logger.info("request %s: its email was sent already, not sending it again", request_id)
    #> end
        return None
    return record


def claimed(request_id: str, expected: tuple[str, ...], status: str, **columns: object) -> bool:
    #> task 07.6
    """Move the request from one of the `expected` statuses to `status` (and set `columns`),
    committed: True if this call moved it, False if the row was elsewhere (or gone).

    One conditional UPDATE, so the database decides: of two jobs claiming the same row at the same
    moment, one changes it and the other changes nothing. Reading the status and then writing it
    would let both read the old one, and both act.
    """
    claim = (
        db.update(MailerRequest)
        .where(MailerRequest.id == request_id, MailerRequest.status.in_(expected))
        .values(status=status, **columns)
    )
    moved = db.session.execute(claim, execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    return bool(moved == 1)
    #> or stub 07.6
    """Move the request from one of `expected` to `status` (and set `columns`), committed: True if
    this call moved it, False if another job got there first.

    TODO(07_scale): task 6. Given for tasks 1 to 5, and wrong: it reads the status, then writes.
    One job at a time, that works; two copies of a job at the same moment both read the old
    status, both move the row, and both act. Make the database decide (README, task 6).
    """
    record = db.session.get(MailerRequest, request_id)
    if record is None or record.status not in expected:
        return False
    record.status = status
    for name, value in columns.items():
        setattr(record, name, value)
    db.session.commit()
    return True
    #> end


def record_step(record: MailerRequest, status: str, **columns: object) -> None:
    """Move the request on to `status` (and set `columns`), committed: the page sees it at once."""
    record.status = status
    for name, value in columns.items():
        setattr(record, name, value)
    db.session.commit()


def gif_or_retry(task: Task, request_id: str, thought: str) -> str | None:
    """The GIF's URL for `thought`, or None when Giphy fails for good (or has failed too often).

    Giphy failing for a moment (a timeout, a 5xx, a 429): raises `task.retry(...)`, to try
    again after a growing wait, GIPHY_RETRIES times at most.
    """
    #> task 09.3
    wait_for_budget(task, request_id, current_app.config)  # the key's budget, every worker's
    #> end
    try:
        return notifier.find_gif(thought)
    except GiphyError as problem:
        if problem.transient and task.request.retries < GIPHY_RETRIES:
            wait = get_exponential_backoff_interval(
                factor=1, retries=task.request.retries, maximum=GIPHY_BACKOFF_MAX, full_jitter=True
            )
            logger.warning("request %s: Giphy failed; trying again in %s s", request_id, wait)
            raise task.retry(exc=problem, countdown=wait) from problem
        logger.warning("request %s: no GIF (Giphy failed for good); sending the email without one", request_id)
        return None
