"""The README's process model, run as it says (`pytest stages/07_scale --integration`): a web
process and one worker per queue, `python -m workit.workers giphy` and `... email`, over a real
redis-server and maildump. With the email worker stopped, the jobs wait in the `email` list and
the page says ready; started again, it sends each email once."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests

from kata.stack import (
    Service,
    StackError,
    migrate_database,
    running,
    spawn,
    wait_until,
    web_service,
)

pytestmark = pytest.mark.integration

TASK_5 = "README, task 5 and 'The process model'"


@contextmanager
def queue_worker(code_dir: Path, env: dict[str, str], logs: Path, queue: str, name: str) -> Iterator[Service]:
    """`python -m workit.workers QUEUE`, as the Procfile runs it, until it says it is ready."""
    command = [sys.executable, "-m", "workit.workers", queue, "--without-gossip", "--without-mingle"]
    with running(spawn(name, command, logs, cwd=code_dir, env=env)) as service:
        try:
            wait_until(lambda: " ready." in service.output(), 30, f"the {queue} worker", service)
        except StackError as problem:
            raise AssertionError(f"`python -m workit.workers {queue}` did not start ({TASK_5}): {problem}") from None
        yield service


def post_form(web: str, email: str) -> str:
    """POST the form as a browser does; the status page's URL."""
    session = requests.Session()
    page = session.get(f"{web}/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    fields = {"mailers[email]": email, "mailers[thought]": "a cat typing very fast", "csrf_token": token.group(1) if token else ""}
    answer = session.post(f"{web}/mailers", data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, f"POST /mailers answered {answer.status_code}: {answer.text[:300]}"
    return requests.compat.urljoin(web, answer.headers["Location"])


def status_of(page: str) -> str:
    return str(requests.get(page, headers={"Accept": "application/json"}, timeout=5).json().get("status"))


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_with_the_email_worker_stopped_the_jobs_wait_in_redis_and_nothing_is_lost(
    code_dir, stack_env, stack_logs, mail_inbox, real_redis, tmp_path
) -> None:
    # No rate limit against the stand-in: at 100/h the second lookup would wait 36 s.
    env = {**stack_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'workit.sqlite3'}", "GIPHY_RATE_LIMIT": ""}
    migrate_database(code_dir, env, stack_logs)
    client = redis.Redis.from_url(real_redis.url, socket_timeout=5)
    client.delete("giphy", "email")

    with web_service(code_dir, env, stack_logs) as web, queue_worker(code_dir, env, stack_logs, "giphy", "worker-giphy"):
        with queue_worker(code_dir, env, stack_logs, "email", "worker-email") as email_worker:
            first = post_form(web.url, "one@example.com")
            assert wait_for(lambda: status_of(first) == "sent", 20), (
                f"with a giphy and an email worker running, the request says {status_of(first)!r}; "
                f"expected 'sent'. The email worker's log:\n{email_worker.output()[-1500:]}"
            )
        pages = [post_form(web.url, f"{who}@example.com") for who in ("two", "three")]
        waiting = wait_for(lambda: client.llen("email") == 2, 20)
        statuses = [status_of(page) for page in pages]
        assert waiting and statuses == ["ready", "ready"], (
            f"with no email worker, the two new requests say {statuses} and {client.llen('email')} job(s) "
            "wait in the Redis list 'email'; expected both looked up by the giphy worker, their email "
            "jobs waiting in 'email', and their pages saying 'ready'."
        )
        with queue_worker(code_dir, env, stack_logs, "email", "worker-email-again"):
            drained = wait_for(lambda: [status_of(page) for page in pages] == ["sent", "sent"], 20)
            messages = mail_inbox.wait_for(3, timeout=60)

    recipients = sorted(address for m in messages for address in m["recipients"]["to"])
    assert drained and client.llen("email") == 0, "once an email worker was back, the waiting jobs were not all sent."
    assert recipients == ["one@example.com", "three@example.com", "two@example.com"], (
        f"the inbox holds emails to {recipients}; expected each of the three requests' email once."
    )
