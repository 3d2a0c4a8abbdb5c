#> file 08-
#> extra 08
"""What the clock starts: celery beat's schedule, from the Flask app's config.
#> or todo 08
"""TODO(08_schedule): what the clock starts: celery beat's schedule, from the Flask app's config.
#> end

`celery beat` is a clock, not a worker: when an entry is due it posts the task's message, and
a worker (the maintenance queue's) runs it. Run one beat, never more: each beat posts every
#> extra 08
entry. The tasks are safe when two run anyway (workit/locks.py), but not free.
#> or todo 08
entry.
#> end
"""

from __future__ import annotations

from collections.abc import Mapping
#> task 08.1
from datetime import timedelta
#> end
from typing import Any

#> task 08.1
from celery.schedules import crontab
#> or extra 08

#> end
EXPIRE, RECONCILE = "workit.maintenance.expire_old_requests", "workit.maintenance.reconcile_requests"
#> task 08.1
DAY = 24 * 60 * 60  # seconds
#> end


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    #> task 08.1
    """beat_schedule: retention daily at RETENTION_HOUR:00 UTC, reconcile every RECONCILE_EVERY s."""
    lock_ttl = config["MAINTENANCE_LOCK_TTL"]
    every = config["RECONCILE_EVERY"]
    return {
        "expire-old-requests": {
            "task": EXPIRE,
            # Every field left out of a crontab is "*": hour=3 alone would be every minute of 03:xx.
            "schedule": crontab(minute=0, hour=config["RETENTION_HOUR"]),
            # A run nobody took before the next one is due is dropped, not piled up; a run is
            # stopped before its lock expires.
            "options": {"expires": DAY, "time_limit": lock_ttl * 0.9},
        },
        "reconcile-requests": {
            "task": RECONCILE,
            "schedule": timedelta(seconds=every),
            "options": {"expires": every, "time_limit": lock_ttl * 0.9},
        },
    }
    #> or stub 08.1
    """The beat_schedule setting: entry name -> task, schedule, options (README, task 1).

    "expire-old-requests" daily at RETENTION_HOUR:00 UTC, "reconcile-requests" every
    RECONCILE_EVERY seconds; each entry's options say when its message expires and how long a
    run may take (below MAINTENANCE_LOCK_TTL).
    """
    raise NotImplementedError("Step 08_schedule, task 1: beat_schedule(config) in workit/schedule.py")
    #> end
