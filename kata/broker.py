"""A Celery broker and worker for tests: fakeredis served over loopback TCP, a real worker.

The app under test talks to Redis the way it would in production (a `redis://` URL, kombu's
Redis transport, a real in-process `celery worker`), but the Redis is fakeredis's
TcpFakeServer on a free port, serving the same in-memory data the test reads. Tuned so a
job takes milliseconds and the worker stops at once (see the notes in each setting).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import fakeredis
from fakeredis._clients._tcp_server import TCPFakeRequestHandler

QUEUE = "celery"

CELERY_TEST_CONF: dict[str, Any] = {
    # kombu copies polling_interval into its BRPOP timeout: the worker sees the stop flag
    # within 20 ms instead of 1 s. Never 0: BRPOP 0 blocks forever.
    "broker_transport_options": {"polling_interval": 0.02},
    "broker_connection_retry_on_startup": False,
    "worker_hijack_root_logger": False,
    "worker_enable_remote_control": False,
    "task_ignore_result": True,
}


class _NoDelayHandler(TCPFakeRequestHandler):
    # Without TCP_NODELAY, kombu's pipelined replies wait on delayed ACKs: 90 ms per job.
    disable_nagle_algorithm = True


class TcpBroker:
    """Serve a fakeredis FakeServer on 127.0.0.1:<free port>."""

    def __init__(self, server: fakeredis.FakeServer) -> None:
        self.server = server
        self._tcp = fakeredis.TcpFakeServer(("127.0.0.1", 0))
        self._tcp.RequestHandlerClass = _NoDelayHandler
        self._tcp.fake_server = server
        self.url = f"redis://127.0.0.1:{self._tcp.server_address[1]}/0"
        self._thread = threading.Thread(target=self._tcp.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def start(self) -> TcpBroker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._tcp.shutdown()
        self._tcp.server_close()
        self._thread.join(5)

    def client(self) -> fakeredis.FakeRedis:
        return fakeredis.FakeRedis(server=self.server)

    def queued(self, queue: str = QUEUE) -> list[TaskMessage]:
        """The task messages waiting in `queue`, oldest first."""
        return [decode_task_message(raw) for raw in reversed(self.client().lrange(queue, 0, -1))]


@dataclass(frozen=True)
class TaskMessage:
    task: str
    args: list[Any]
    kwargs: dict[str, Any]
    id: str


def decode_task_message(raw: bytes | str) -> TaskMessage:
    """One item of a Celery queue in Redis (task protocol 2, JSON) as name and arguments."""
    envelope = json.loads(raw)
    body = envelope["body"]
    if envelope["properties"].get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args, kwargs, _ = json.loads(body)
    return TaskMessage(envelope["headers"]["task"], args, kwargs, envelope["headers"]["id"])


@contextmanager
def task_failures() -> Iterator[list[BaseException]]:
    """The exceptions tasks raise in a worker while the block runs (a worker only logs them)."""
    from celery.signals import task_failure

    failures: list[BaseException] = []

    def remember(sender: object = None, exception: BaseException | None = None, **_: object) -> None:
        if exception is not None:
            failures.append(exception)

    task_failure.connect(remember, weak=False)
    try:
        yield failures
    finally:
        task_failure.disconnect(remember)


def wait_for_email_or_failure(inbox: Any, failures: list[BaseException], timeout: float) -> None:
    """Return once `inbox` has a delivery, a task has failed, or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not inbox.deliveries and not failures:
        time.sleep(0.002)


@contextmanager
def worker_running(celery_app: Any) -> Iterator[Any]:
    """A real Celery worker in a thread of this process, consuming `celery_app`'s broker."""
    from celery.contrib.testing.worker import start_worker

    try:
        with start_worker(
            celery_app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=5,
        ) as worker:
            yield worker
    finally:
        celery_app.pool.force_close_all()
