"""What the clock starts: celery beat's schedule, from the Flask app's config.

`celery beat` is a clock, not a worker: when an entry is due it posts the task's message, and
a worker (the maintenance queue's) runs it. Run one beat, never more: each beat posts every
entry. The tasks are safe when two run anyway (workit/locks.py), but not free.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery.schedules import crontab

EXPIRE, RECONCILE = "workit.maintenance.expire_old_requests", "workit.maintenance.reconcile_requests"
DAY = 24 * 60 * 60  # seconds


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
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
