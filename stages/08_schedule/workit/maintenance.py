"""TODO(08_schedule): the jobs the clock starts (workit/schedule.py): retention and reconcile.

Both may run twice, or at the same time: each works under a lock (workit/locks.py), changes
MAINTENANCE_BATCH rows at most, oldest first, and changes a row only if it still is what the
run found, in the UPDATE's own WHERE.
"""

from __future__ import annotations

from celery import shared_task
from celery.utils.log import get_task_logger

logger = get_task_logger(__name__)


@shared_task
def expire_old_requests() -> int:
    """Wipe the address, thought and GIF of final requests older than RETENTION_DAYS: how many.

    (README, task 3)
    """
    raise NotImplementedError("Step 08_schedule, task 3: expire_old_requests() in workit/maintenance.py")


@shared_task
def reconcile_requests() -> int:
    """Post the job of each lost request again, once; fail those lost again: how many changed.

    Lost: in flight, and its row has not moved for RECONCILE_AFTER seconds (README, task 4).
    """
    raise NotImplementedError("Step 08_schedule, task 4: reconcile_requests() in workit/maintenance.py")
