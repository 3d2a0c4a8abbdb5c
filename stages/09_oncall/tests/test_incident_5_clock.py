"""Incident 5: since the move to the new servers, the nightly retention runs an hour early, two
in summer. The servers run in the office's time zone (TZ=Europe/Paris); the privacy notice says
03:00 UTC. No clock is needed: the schedule says itself when it is next due, with Celery's own
arithmetic, from a given moment in winter and in summer."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

INCIDENT_5 = "README, incident 5 (celery#4743; https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#time-zones)"
WINTER = datetime(2027, 1, 15, 0, 0, 30, tzinfo=timezone.utc)
SUMMER = datetime(2027, 7, 15, 0, 0, 30, tzinfo=timezone.utc)


def next_retention(celery, start: datetime) -> str:
    """When beat next runs the retention entry after `start`, as HH:MM UTC."""
    from celery.schedules import maybe_schedule

    entry = celery.conf.beat_schedule["expire-old-requests"]
    schedule = maybe_schedule(entry["schedule"], app=celery)
    schedule.nowfun = lambda: start
    last_run, wait, _now = schedule.remaining_delta(start)  # celery's own arithmetic, in the app's zone
    return (last_run + wait).astimezone(timezone.utc).strftime("%H:%M")


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York"])
def test_incident_5_retention_runs_at_three_utc_whatever_the_servers_zone(app_config, monkeypatch, zone):
    from workit import create_app

    monkeypatch.setenv("TZ", zone)
    celery = create_app(app_config).extensions["celery"]
    try:
        runs = {"January": next_retention(celery, WINTER), "July": next_retention(celery, SUMMER)}
    finally:
        celery.close()

    assert runs == {"January": "03:00", "July": "03:00"}, (
        f"on servers in {zone} (TZ), the nightly retention runs at {runs} UTC; the privacy notice and "
        "RETENTION_HOUR say 03:00 UTC, all year. A clock that follows the servers' zone moves the job with "
        "every move of the servers, and twice a year with summer time. On a laptop in UTC it all looks "
        f"right. {INCIDENT_5}."
    )
