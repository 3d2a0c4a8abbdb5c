"""TODO(08_schedule): what the clock starts: celery beat's schedule, from the Flask app's config.

`celery beat` is a clock, not a worker: when an entry is due it posts the task's message, and
a worker (the maintenance queue's) runs it. Run one beat, never more: each beat posts every
entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXPIRE, RECONCILE = "workit.maintenance.expire_old_requests", "workit.maintenance.reconcile_requests"


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The beat_schedule setting: entry name -> task, schedule, options (README, task 1).

    "expire-old-requests" daily at RETENTION_HOUR:00 UTC, "reconcile-requests" every
    RECONCILE_EVERY seconds; each entry's options say when its message expires and how long a
    run may take (below MAINTENANCE_LOCK_TTL).
    """
    raise NotImplementedError("Step 08_schedule, task 1: beat_schedule(config) in workit/schedule.py")
