"""Killing a worker in the middle of a job, for real (`pytest stages/05_failures --integration`).

`flask run`, `celery worker` processes, redis-server, maildump and a Giphy stand-in, each on a
free loopback port. The stand-in holds every answer back, so the job is caught in the middle:
the worker has taken it and waits for the GIF. Then the worker is killed with SIGKILL, which
no program can catch or clean up after. With late acknowledgement the job is still in Redis;
it comes back, and the email arrives exactly once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from kata.stack import GiphyStandIn, Maildump, Service, worker_service

pytestmark = [pytest.mark.integration, pytest.mark.timeout(40)]

FORM = {"mailers[email]": "gob@example.com", "mailers[thought]": "I've made a huge mistake"}
VISIBILITY_TIMEOUT = 2  # seconds: a dead worker's job is back in the queue this soon
GRACE = 1.5  # seconds to wait after the first email, for a second copy that should not come


@pytest.fixture
def stack_env(stack_env: dict[str, str]) -> dict[str, str]:
    """The stack's settings with a short visibility timeout, and a Redis with no job in it: a
    job left over by an earlier test would be one more email."""
    import redis

    redis.Redis.from_url(stack_env["REDIS_URL"]).delete("celery", "unacked", "unacked_index")
    return {**stack_env, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}


def post_form(web: str) -> None:
    """GET the form and POST it back with its CSRF token, like a browser."""
    session = requests.Session()
    page = session.get(f"{web}/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    fields = {**FORM, "csrf_token": token.group(1)} if token else FORM
    answer = session.post(f"{web}/mailers", data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), (
        f"POST /mailers over HTTP answered {answer.status_code}; expected the redirect to /sent "
        f"(step 04).\n{answer.text[:500]}"
    )


def wait_until_mid_job(giphy: GiphyStandIn, worker: Service) -> float:
    """Wait until the worker's request reaches the (held) Giphy stand-in; when it did."""
    deadline = time.monotonic() + 10
    while not giphy.requests_seen:
        assert time.monotonic() < deadline, (
            f"no worker asked Giphy for the GIF within 10 s of the form. Its log:\n{worker.output()[-1500:]}"
        )
        time.sleep(0.02)
    return time.monotonic()


def pool_processes(parent: int) -> list[int]:
    """The pids of `parent`'s child processes (Celery's pool), from /proc or pgrep."""
    proc = Path("/proc")
    if proc.is_dir():
        children = []
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                children.append(int(stat.parent.name))
        return children
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def emails_after_grace(inbox: Maildump, timeout: float) -> list[dict]:
    messages = inbox.wait_for(1, timeout=timeout)
    if messages:
        time.sleep(GRACE)
        messages = inbox.messages()
    return messages


def test_a_job_whose_worker_is_killed_comes_back_and_is_sent_once(
    web: str, code_dir: Path, stack_env: dict[str, str], stack_logs: Path,
    mail_inbox: Maildump, giphy_standin: GiphyStandIn,
) -> None:
    giphy_standin.hold()
    with worker_service(code_dir, stack_env, stack_logs) as first:
        post_form(web)
        taken = wait_until_mid_job(giphy_standin, first)
        os.killpg(first.process.pid, signal.SIGKILL)  # the whole worker: no goodbye
        first.process.wait(5)
    # The job comes back once the visibility timeout has passed since the worker took it.
    time.sleep(max(0.0, taken + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    with worker_service(code_dir, stack_env, stack_logs) as second:
        giphy_standin.release()
        messages = emails_after_grace(mail_inbox, timeout=10)
        log = second.output()

    assert messages, (
        "a worker was killed (SIGKILL) while its job waited for Giphy, a second worker "
        f"started {VISIBILITY_TIMEOUT} s later, and no email arrived: the job was lost. The "
        "first worker had acknowledged it when it took it. README, tasks 2 and 3: acknowledge "
        "a job once it is done, and give the broker the visibility timeout of "
        f"CELERY_VISIBILITY_TIMEOUT (the test sets {VISIBILITY_TIMEOUT} s), so the "
        "unacknowledged job goes back to the queue. The "
        f"second worker's log:\n{log[-1500:]}"
    )
    assert len(messages) == 1, (
        f"{len(messages)} emails arrived for one form after its first worker was killed; "
        "expected exactly one. Check the idempotency key (test_idempotency.py)."
    )
    assert messages[0]["recipients"]["to"] == [FORM["mailers[email]"]]


def test_a_job_whose_pool_process_is_killed_goes_back_to_the_queue_at_once(
    web: str, code_dir: Path, stack_env: dict[str, str], stack_logs: Path,
    mail_inbox: Maildump, giphy_standin: GiphyStandIn,
) -> None:
    # An hour of visibility timeout: only reject_on_worker_lost can bring this job back in time.
    env = {**stack_env, "CELERY_VISIBILITY_TIMEOUT": "3600"}
    giphy_standin.hold()
    with worker_service(code_dir, env, stack_logs) as worker:
        post_form(web)
        wait_until_mid_job(giphy_standin, worker)
        children = pool_processes(worker.process.pid)
        assert len(children) == 1, f"expected one pool process under the worker, found {children}"
        os.kill(children[0], signal.SIGKILL)  # only the process running the job, as the OOM killer does
        time.sleep(0.5)  # the worker notices (at once, or at its next check: up to 5 s later)
        giphy_standin.release()
        messages = emails_after_grace(mail_inbox, timeout=10)
        log = worker.output()

    assert messages, (
        "the worker's pool process was killed (SIGKILL) while its job waited for Giphy, and no "
        "email arrived: the worker acknowledged the job when the process died, so it is gone. "
        "README, task 2: a job whose pool process dies goes back to the queue instead. "
        f"The worker's log:\n{log[-1500:]}"
    )
    assert len(messages) == 1, f"{len(messages)} emails arrived for one form; expected exactly one."
