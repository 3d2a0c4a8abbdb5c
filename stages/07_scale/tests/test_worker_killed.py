"""Task 6: a worker killed while it sends an email, for real (`pytest stages/07_scale --integration`).

redis-server, maildump and `python -m workit.workers email` processes, each on a free loopback
port. The first email worker's mail server is a stand-in that takes the connection and never
answers: the job has claimed its request (`sending`) and waits at the mail server, with nothing
handed over. Then the worker is killed with SIGKILL. With late acks its message comes back to a
second worker (whose mail server is maildump) once the visibility timeout has passed, and the
email must arrive, exactly once: a claim protects a request from another job, not from the job
that comes back.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
import redis

from kata.stack import HOST, Service, StackError, migrate_database, running, spawn, wait_until

pytestmark = pytest.mark.integration

EMAIL = "lucille@example.com"
GIF = "https://media.giphy.com/media/kataLucille/200.gif"
SEND = "workit.tasks.send_randomness_email"
VISIBILITY_TIMEOUT = 2  # seconds: a dead worker's job is back in the queue this soon
GRACE = 1.5  # seconds to wait after the first email, for a second copy that should not come
TASK_6 = "README, task 6 (what a worker that dies while sending leaves behind)"
DOCS = "Celery's Tasks guide, 'Task Request' (what a task knows of its message), and its FAQ on acks_late"


@contextmanager
def silent_mail_server() -> Iterator[tuple[int, threading.Event]]:
    """A mail server that takes each connection and never says a word: whoever connects waits for
    its greeting until their timeout. Its port, and an event set at the first connection."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    connected = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            held.append(connection)
            connected.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], connected
    finally:
        listener.close()
        for connection in held:
            connection.close()
        thread.join(5)


@contextmanager
def email_worker(code_dir: Path, env: dict[str, str], logs: Path, name: str) -> Iterator[Service]:
    """`python -m workit.workers email`, as the Procfile runs it, until it says it is ready."""
    command = [sys.executable, "-m", "workit.workers", "email", "--without-gossip", "--without-mingle"]
    with running(spawn(name, command, logs, cwd=code_dir, env=env)) as service:
        try:
            wait_until(lambda: " ready." in service.output(), 30, "the email worker", service)
        except StackError as problem:
            raise AssertionError(f"`python -m workit.workers email` did not start (README, task 5): {problem}") from None
        yield service


def ready_request(database: Path) -> str:
    """A request whose GIF is found, waiting for an email worker: the row as a lookup leaves it."""
    request_id = uuid.uuid4().hex
    now = datetime.now(timezone.utc).isoformat(" ")
    with sqlite3.connect(database, timeout=5) as connection:
        connection.execute(
            "INSERT INTO mailer_requests (id, email, thought, status, task_id, gif_url, created_at, updated_at) "
            "VALUES (?, ?, ?, 'ready', ?, ?, ?, ?)",
            (request_id, EMAIL, "I don't understand the question", str(uuid.uuid4()), GIF, now, now),
        )
    return request_id


def status_of(database: Path, request_id: str) -> str | None:
    with sqlite3.connect(database, timeout=5) as connection:
        row = connection.execute("SELECT status FROM mailer_requests WHERE id = ?", (request_id,)).fetchone()
    return row[0] if row else None


def post_email_job(redis_url: str, request_id: str) -> None:
    """The email's job for the request on the queue `email`, as the lookup posts it."""
    from celery import Celery

    poster = Celery("kata-poster", broker=redis_url)
    try:
        poster.send_task(SEND, args=(request_id,), queue="email")
    finally:
        poster.close()


def test_an_email_job_whose_worker_is_killed_while_sending_comes_back_and_sends_once(
    code_dir, stack_env, stack_logs, mail_inbox, real_redis, tmp_path
) -> None:
    database = tmp_path / "workit.sqlite3"
    env = {**stack_env, "DATABASE_URL": f"sqlite:///{database}", "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    migrate_database(code_dir, env, stack_logs)
    redis.Redis.from_url(real_redis.url, socket_timeout=5).delete("giphy", "email", "unacked", "unacked_index")
    request_id = ready_request(database)

    with silent_mail_server() as (silent_port, connected):
        # Its mail server never answers, and the worker waits longer than the test does.
        stuck_env = {**env, "MAIL_PORT": str(silent_port), "MAIL_TIMEOUT": "60"}
        with email_worker(code_dir, stuck_env, stack_logs, "worker-email-killed") as first:
            post_email_job(real_redis.url, request_id)
            reached = connected.wait(20)
            taken = time.monotonic()
            while_sending = status_of(database, request_id)
            assert reached, (
                f"the email's job for a request that was 'ready' did not reach the mail server within 20 s (the "
                f"request says {while_sending!r}). The email worker's log:\n{first.output()[-1500:]}"
            )
            os.killpg(first.process.pid, signal.SIGKILL)  # the whole worker, in the middle of the send
            first.process.wait(5)
            killed_log = first.output()
    # The job comes back once the visibility timeout has passed since the worker took it.
    time.sleep(max(0.0, taken + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    with email_worker(code_dir, env, stack_logs, "worker-email-again") as second:
        messages = mail_inbox.wait_for(1, timeout=20)
        if messages:
            time.sleep(GRACE)
            messages = mail_inbox.messages()
        log = second.output()
    status = status_of(database, request_id)

    assert messages, (
        f"an email worker was killed (SIGKILL) while it sent a request's email: the request said "
        f"{while_sending!r}, and the mail server had taken nothing. Its job came back to a second worker "
        f"(late acks), and no email arrived in 20 s: the request still says {status!r}. The job that came "
        "back found the claim of its own run, which died, took it for another job's, and left it: nobody "
        "will ever send this email. A message that comes back because its worker died is marked so by the "
        "broker, and the task can tell: such a job may take its request back from 'sending'; any other "
        f"copy finds it another job's, as before. {TASK_6}; read {DOCS}. The second worker's log:\n"
        f"{log[-1500:]}\nThe killed worker's log:\n{killed_log[-800:]}"
    )
    assert len(messages) == 1 and status == "sent", (
        f"{len(messages)} emails arrived for one request whose worker was killed while sending, and the request "
        f"says {status!r}; expected exactly one email and 'sent'. {TASK_6}. The second worker's log:\n{log[-1500:]}"
    )
    assert messages[0]["recipients"]["to"] == [EMAIL]
