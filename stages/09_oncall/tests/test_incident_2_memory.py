"""Incident 2: the email worker's memory only grows, until the kernel kills a pool process.

The first test asks the Celery app what the config makes of the runbook's budget for one
process. The second (`--integration`) runs the real email worker, `python -m workit.workers
email` (prefork, two pool processes), sends it three emails with a budget of one job a process,
and watches its pool processes from outside, as `ps` would."""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kata.stack import eventually as wait_for

INCIDENT_2 = "README, incident 2 (billiard#380; https://docs.celeryq.dev/en/stable/userguide/workers.html)"


def budget_of(app_config: dict, **config) -> tuple[object, object]:
    from workit import create_app

    celery = create_app({**app_config, **config}).extensions["celery"]
    return celery.conf.worker_max_tasks_per_child, celery.conf.worker_max_memory_per_child


def test_incident_2_a_pool_process_has_a_budget_of_jobs(app_config):
    jobs, _ = budget_of(app_config, WORKER_PROCESS_MAX_JOBS=7)

    assert jobs == 7, (
        f"with WORKER_PROCESS_MAX_JOBS=7 a pool process runs {jobs!r} jobs before a fresh one takes over "
        "(None: for ever). Whatever a job leaks (a cache that only grows, a library's buffers) stays "
        f"until the kernel's OOM killer takes the process, mid-job. {INCIDENT_2}."
    )


@pytest.mark.parametrize("megabytes", [300, 64])
def test_incident_2_a_pool_process_has_a_budget_of_memory(app_config, megabytes):
    _, kilobytes = budget_of(app_config, WORKER_PROCESS_MAX_MB=megabytes)

    assert kilobytes == megabytes * 1024, (
        f"with WORKER_PROCESS_MAX_MB={megabytes} Celery is told {kilobytes!r}, which is not {megabytes} MB in the "
        "unit that setting counts in (its documentation says which). Too small, and every job starts a fresh "
        f"process; too big (or None), and the kernel kills the process first. {INCIDENT_2}."
    )


# --- the real email worker ----------------------------------------------------------------


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux's /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the worker's processes from Linux's /proc")
@pytest.mark.timeout(180)
def test_incident_2_the_real_email_worker_replaces_its_pool_processes(code_dir, stack_env, stack_logs, mail_inbox, tmp_path):
    from celery import Celery

    from kata.stack import migrate_database, running, spawn, wait_until

    database = str(tmp_path / "workit.sqlite3")
    env = {**stack_env, "DATABASE_URL": f"sqlite:///{database}", "GIPHY_RATE_LIMIT": "", "WORKER_PROCESS_MAX_JOBS": "1"}
    migrate_database(code_dir, env, stack_logs)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    ids = [f"kata-memory-{n:020d}" for n in range(3)]
    with sqlite3.connect(database) as connection:
        for request_id in ids:
            connection.execute(
                "INSERT INTO mailer_requests (id, email, thought, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (request_id, "buster@example.com", "I'm a monster", "ready", now, now),
            )

    command = [sys.executable, "-m", "workit.workers", "email", "--without-gossip", "--without-mingle"]
    with running(spawn("email-worker", command, stack_logs, cwd=code_dir, env=env)) as worker:
        wait_until(lambda: " ready." in worker.output(), 60, "the email worker", worker)
        assert wait_for(lambda: len(children(worker.process.pid)) >= 2, 30), f"the email worker has no pool processes{worker.tail()}"
        first = children(worker.process.pid)

        producer = Celery(broker=env["REDIS_URL"])
        for request_id in ids:
            producer.send_task("workit.tasks.send_randomness_email", args=[request_id], queue="email")
        messages = mail_inbox.wait_for(3, timeout=60)
        assert len(messages) == 3, f"the email worker sent {len(messages)} of 3 emails in 60 s{worker.tail()}"
        replaced = wait_for(lambda: children(worker.process.pid) - first, 30)
        now_running = children(worker.process.pid)
        producer.close()

    assert replaced, (
        f"the email worker sent 3 emails with a budget of one job a process (WORKER_PROCESS_MAX_JOBS=1), and its "
        f"pool processes are the same ones: {sorted(first)} before, {sorted(now_running)} after. A process that is "
        "never replaced keeps all the memory its jobs ever took, until the kernel kills it mid-job "
        f"('exited with signal 9 (SIGKILL)'). {INCIDENT_2}."
    )
    assert os.path.exists(database)
