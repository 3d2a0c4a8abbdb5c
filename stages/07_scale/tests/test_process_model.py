"""The README's process model, run as it says (`pytest stages/07_scale --integration`): a web
process and one worker per queue, `python -m workit.workers giphy` and `... email`, over a real
redis-server and maildump. With the email worker stopped, the jobs wait in the `email` list and
the page says ready; started again, it sends each email once."""

from __future__ import annotations

import re
import sys
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
from kata.stack import eventually as wait_for

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


def each_message_twice(client: redis.Redis, queue: str) -> int:
    """Put a copy of each message waiting in `queue` beside it, as a message that came back (late
    acks) or was posted twice: the same task, its own delivery tag. How many there were."""
    import json
    import uuid

    waiting = client.lrange(queue, 0, -1)
    for raw in waiting:
        message = json.loads(raw)
        message["properties"]["delivery_tag"] = str(uuid.uuid4())
        client.lpush(queue, json.dumps(message))
    return len(waiting)


def test_two_copies_of_each_job_taken_by_pool_processes_send_each_email_once(
    code_dir, stack_env, stack_logs, mail_inbox, real_redis, tmp_path
) -> None:
    env = {**stack_env, "DATABASE_URL": f"sqlite:///{tmp_path / 'workit.sqlite3'}", "GIPHY_RATE_LIMIT": ""}
    migrate_database(code_dir, env, stack_logs)
    client = redis.Redis.from_url(real_redis.url, socket_timeout=5)
    client.delete("giphy", "email")
    task_6 = "README, task 6: claim the row"

    with web_service(code_dir, env, stack_logs) as web:
        pages = [post_form(web.url, f"{who}@example.com") for who in ("four", "five")]
        lookups = each_message_twice(client, "giphy")
        with queue_worker(code_dir, env, stack_logs, "giphy", "worker-giphy-copies") as giphy_worker:
            # The threads pool runs the four lookups at once; each one ends with a line in the log.
            looked_up = wait_for(lambda: giphy_worker.output().count(" succeeded in ") >= 2 * lookups, 30)
        email_jobs = client.llen("email")
        assert looked_up and (lookups, email_jobs) == (2, 2), (
            f"two forms, each lookup's message twice in the queue 'giphy' (a lookup that came back after "
            f"posting): the giphy worker posted {email_jobs} email job(s); expected 2, one per request. "
            f"A lookup that finds the request past the lookup posts nothing. {task_6}. The giphy worker's "
            f"log:\n{giphy_worker.output()[-1500:]}"
        )
        each_message_twice(client, "email")
        with queue_worker(code_dir, env, stack_logs, "email", "worker-email-copies") as email_worker:
            # Two prefork processes take the copies; every one of the four jobs ends with a line.
            finished = wait_for(lambda: email_worker.output().count(" succeeded in ") >= 2 * email_jobs, 30)
        statuses = [status_of(page) for page in pages]

    recipients = sorted(address for m in mail_inbox.messages() for address in m["recipients"]["to"])
    assert finished and statuses == ["sent", "sent"], (
        f"the email worker ran the copies of both requests' email jobs; the pages say {statuses}. The email "
        f"worker's log:\n{email_worker.output()[-1500:]}"
    )
    assert recipients == ["five@example.com", "four@example.com"], (
        f"each request's email job was in the queue 'email' twice, and the email worker's pool processes "
        f"took the copies: the inbox holds emails to {recipients}; expected each address once. Only the job "
        f"whose claim moved the request from ready to sending may send. {task_6}."
    )
