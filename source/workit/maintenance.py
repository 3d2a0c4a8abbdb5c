#> file 08-
#> extra 08
"""The jobs the clock starts (workit/schedule.py): retention and reconcile.

Both may run twice, or at the same time (two beats, a run slower than its period): each works
under a lock (workit/locks.py), changes MAINTENANCE_BATCH rows at most, oldest first, and
changes a row only if it still is what the run found, in the UPDATE's own WHERE. So a second
run changes nothing, and an overlap that outlived the lock changes each row once.
#> or todo 08
"""TODO(08_schedule): the jobs the clock starts (workit/schedule.py): retention and reconcile.

Both may run twice, or at the same time: each works under a lock (workit/locks.py), changes
MAINTENANCE_BATCH rows at most, oldest first, and changes a row only if it still is what the
run found, in the UPDATE's own WHERE.
#> end
"""

from __future__ import annotations
#> extra 08

#> or task 08.1
from datetime import timedelta
from typing import Any
#> end

from celery import shared_task
from celery.utils.log import get_task_logger
#> task 08.3
from flask import current_app
#> or extra 08

#> or task 08.3
from workit.db import db
from workit.locks import run_alone
from workit.models import FAILED, FINAL, IN_FLIGHT, LOST_REQUEST, QUEUED, MailerRequest, utc_now
from workit.tasks import look_up_gif
#> end

logger = get_task_logger(__name__)
#> extra 08


#> or task 08.3
def changed(*conditions: Any, **values: Any) -> int:
    """UPDATE the requests that meet `conditions` (in the UPDATE's WHERE), committed: how many."""
    result = db.session.execute(
        db.update(MailerRequest).where(*conditions).values(**values),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return int(result.rowcount)
#> end


@shared_task
def expire_old_requests() -> int:
    #> task 08.3
    """Wipe the address, thought and GIF of final requests older than RETENTION_DAYS: how many."""
    config = current_app.config
    with run_alone("expire-old-requests", config["MAINTENANCE_LOCK_TTL"]) as alone:
        if not alone:
            return 0
        cutoff = utc_now() - timedelta(days=config["RETENTION_DAYS"])
        due = (MailerRequest.status.in_(FINAL), MailerRequest.expired_at.is_(None), MailerRequest.created_at < cutoff)
        oldest = db.select(MailerRequest.id).where(*due).order_by(MailerRequest.created_at).limit(config["MAINTENANCE_BATCH"])
        ids = list(db.session.scalars(oldest))
        if not ids:
            return 0
        # The GIF goes too: it was found from the thought, so it tells it.
        count = changed(MailerRequest.id.in_(ids), *due, email=None, thought=None, gif_url=None, expired_at=utc_now())
        logger.info("retention: %s request(s) older than %s days wiped", count, config["RETENTION_DAYS"])
        return count
    #> or stub 08.3
    """Wipe the address, thought and GIF of final requests older than RETENTION_DAYS: how many.

    (README, task 3)
    """
    raise NotImplementedError("Step 08_schedule, task 3: expire_old_requests() in workit/maintenance.py")
    #> end


@shared_task
def reconcile_requests() -> int:
    """Post the job of each lost request again, once; fail those lost again: how many changed.

    #> task 08.4
    Lost: in flight, and its row has not moved for RECONCILE_AFTER seconds.
    #> or stub 08.4
    Lost: in flight, and its row has not moved for RECONCILE_AFTER seconds (README, task 4).
    #> end
    """
    #> task 08.4
    config = current_app.config
    with run_alone("reconcile-requests", config["MAINTENANCE_LOCK_TTL"]) as alone:
        if not alone:
            return 0
        cutoff = utc_now() - timedelta(seconds=config["RECONCILE_AFTER"])
        stale = (MailerRequest.status.in_(IN_FLIGHT), MailerRequest.updated_at < cutoff)
        oldest = (
            db.select(MailerRequest.id, MailerRequest.requeued_at)
            .where(*stale)
            .order_by(MailerRequest.updated_at)
            .limit(config["MAINTENANCE_BATCH"])
        )
        count = 0
        for request_id, requeued_at in db.session.execute(oldest).all():
            this = (MailerRequest.id == request_id, *stale)
            if requeued_at is None:
                # The database decides, not the lock: only the run whose UPDATE changed the row
                # posts the job, after the commit (the job's worker must see requeued_at).
                # Back to queued: the lookup claims only a request queued (or looking up), so the
                # job posted again starts from the start, whatever step the row was lost at; an
                # email job still waiting finds the row no longer ready and sends nothing.
                if changed(*this, MailerRequest.requeued_at.is_(None), requeued_at=utc_now(), status=QUEUED):
                    look_up_gif.apply_async((request_id,), task_id=f"reconcile-{request_id}")
                    logger.warning("request %s: lost on the way; posted its job again", request_id)
                    count += 1
            elif changed(*this, MailerRequest.requeued_at.is_not(None), status=FAILED, error=LOST_REQUEST):
                logger.warning("request %s: lost again after it was posted again; marked failed", request_id)
                count += 1
        return count
    #> or stub 08.4
    raise NotImplementedError("Step 08_schedule, task 4: reconcile_requests() in workit/maintenance.py")
    #> end
