"""Task 1: a schedule that means what it says, from the config, on a queue a worker reads.

No clock is needed: a Celery schedule says itself when it is next due (`remaining_delta`), so
the tests count its runs over a day from a fixed start."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest

EXPIRE, RECONCILE = "workit.maintenance.expire_old_requests", "workit.maintenance.reconcile_requests"
ENTRIES = {"expire-old-requests": EXPIRE, "reconcile-requests": RECONCILE}
TASK_1 = "README, task 1: beat_schedule(config) in workit/schedule.py"
START = datetime(2026, 12, 2, 0, 0, 30, tzinfo=timezone.utc)  # a day starts; not on a minute


def schedule_of(config: dict) -> dict:
    from workit.config import from_environment
    from workit.schedule import beat_schedule

    return beat_schedule({**from_environment({}), **config})


def runs_in_a_day(entry: dict) -> list[str]:
    """When the entry is due between START and START + 24 h, as HH:MM (UTC)."""
    from celery.schedules import maybe_schedule

    schedule = maybe_schedule(entry["schedule"])
    schedule.nowfun = lambda: START
    fires, last_run = [], START
    while True:
        start, wait, _now = schedule.remaining_delta(last_run)  # celery's own arithmetic
        due = start + wait
        last_run = due if due > last_run else last_run + timedelta(minutes=1)
        if last_run > START + timedelta(days=1):
            return fires
        fires.append(last_run.strftime("%H:%M"))
        if len(fires) > 2000:
            return fires


def seconds_between_runs(entry: dict) -> float:
    from celery.schedules import maybe_schedule

    return maybe_schedule(entry["schedule"]).run_every.total_seconds()


def test_the_schedule_has_its_two_entries():
    schedule = schedule_of({})

    assert {name: entry.get("task") for name, entry in schedule.items()} == ENTRIES, (
        f"beat_schedule(config) gave {schedule!r}; expected the entries {ENTRIES} (name: task). {TASK_1}."
    )


def test_retention_runs_once_a_day_at_three():
    fires = runs_in_a_day(schedule_of({})["expire-old-requests"])

    assert fires == ["03:00"], (
        f"the retention entry runs {len(fires)} times a day, at {fires[:3]}...{fires[-2:]}; expected once, "
        "at 03:00 UTC. If it runs 60 times between 03:00 and 03:59: a crontab field you leave out "
        f"means every (*), so an entry that names only the hour 3 runs every minute of that hour. {TASK_1}."
    )


def test_retention_runs_at_the_configured_hour():
    fires = runs_in_a_day(schedule_of({"RETENTION_HOUR": 5})["expire-old-requests"])

    assert fires == ["05:00"], f"with RETENTION_HOUR=5 the retention entry runs at {fires[:5]}; expected ['05:00']. {TASK_1}."


@pytest.mark.parametrize("every", [300, 45])
def test_reconcile_runs_every_reconcile_every_seconds(every):
    entry = schedule_of({"RECONCILE_EVERY": every})["reconcile-requests"]

    assert seconds_between_runs(entry) == every, (
        f"with RECONCILE_EVERY={every} the reconcile entry runs every {seconds_between_runs(entry)} s. {TASK_1}."
    )


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_each_entry_expires_before_its_next_run_and_stops_before_its_lock_does(name):
    entry = schedule_of({"MAINTENANCE_LOCK_TTL": 50, "RECONCILE_EVERY": 60})[name]
    options = entry.get("options", {})
    period = 24 * 3600 if name == "expire-old-requests" else 60

    assert options.get("expires") and 0 < float(options["expires"]) <= period, (
        f"the entry {name!r} has options {options}; expected 'expires' of at most its period ({period} s): "
        f"a message no worker took before the next one is due is dropped, not piled up. {TASK_1}."
    )
    assert options.get("time_limit") and 0 < float(options["time_limit"]) < 50, (
        f"the entry {name!r} has options {options}; with MAINTENANCE_LOCK_TTL=50 expected a 'time_limit' "
        f"below 50 s: a run must be stopped before its lock expires. {TASK_1}."
    )


def test_the_app_uses_the_schedule_and_routes_it_to_the_maintenance_queue(app_config):
    from workit import create_app
    from workit.schedule import beat_schedule

    app = create_app({**app_config, "RECONCILE_EVERY": 42})
    celery = app.extensions["celery"]
    routes = {name: celery.amqp.router.route({}, name)["queue"].name for name in ENTRIES.values()}

    assert celery.conf.beat_schedule == beat_schedule(app.config), (
        f"the Celery app's beat_schedule is {celery.conf.beat_schedule!r}; expected beat_schedule(app.config), "
        f"set in celery_init_app (workit/celery_app.py). {TASK_1}."
    )
    assert routes == {EXPIRE: "maintenance", RECONCILE: "maintenance"}, (
        f"the maintenance tasks go to the queues {routes}; expected 'maintenance' for both. Unrouted, "
        f"they wait in 'celery', which no worker reads, and nothing ever happens. {TASK_1}: task_routes."
    )


@pytest.mark.given
def test_a_request_counts_as_lost_only_after_every_honest_delay():
    from workit import tasks
    from workit.config import from_environment

    settings = from_environment({})
    task = tasks.send_randomness_email
    with mock.patch("random.randint", lambda low, high: high):
        retry_waits = sum(tasks.smtp_wait(task, retries) for retries in range(tasks.MAX_RETRIES))
    honest = settings["CELERY_VISIBILITY_TIMEOUT"] + retry_waits

    assert settings["RECONCILE_AFTER"] > honest, (
        f"RECONCILE_AFTER is {settings['RECONCILE_AFTER']} s by default; a request in flight may stay still for the "
        f"visibility timeout plus every SMTP retry's wait, {honest:.0f} s, and still be sent: posting it again "
        "before then sends a slow request twice. README, 'Reconcile, don't guess'."
    )
