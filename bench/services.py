"""Processes the bench starts beyond kata.stack's: a worker with a chosen pool, gunicorn.

Built from kata.stack's own pieces (spawn, running), so they run in their own process group
on loopback and are stopped, then killed, on the way out.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

from kata.stack import HOST, Service, StackError, free_port, running, spawn


def wait_for(check: Callable[[], bool], timeout: float, what: str, service: Service) -> None:
    """Poll `check` until true; a StackError with the end of the service's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise StackError(f"{what}: exited with code {service.process.returncode}:\n{service.output()[-3000:]}")
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.02)
    raise StackError(f"{what}: not ready after {timeout:.0f} s:\n{service.output()[-3000:]}")


@contextmanager
def worker(code_dir: Path, env: Mapping[str, str], logs: Path, pool: str, concurrency: int, name: str = "worker",
           app: str = "workit.worker", extra: tuple[str, ...] = ()) -> Iterator[Service]:
    """`celery -A APP worker --pool=POOL --concurrency=N [EXTRA...]`, as kata.stack.worker_service
    starts it (which has no pool option), waiting until it says it is ready."""
    command = [
        sys.executable, "-m", "celery", "-A", app, "worker",
        "--loglevel=INFO", f"--pool={pool}", f"--concurrency={concurrency}",
        "--without-gossip", "--without-mingle", "--without-heartbeat", *extra,
    ]
    with running(spawn(name, command, logs, cwd=code_dir, env=env)) as service:
        wait_for(lambda: " ready." in service.output(), 60, f"celery worker {pool}x{concurrency}", service)
        yield service


@contextmanager
def gunicorn(code_dir: Path, env: Mapping[str, str], logs: Path, workers: int = 2, threads: int = 4) -> Iterator[Service]:
    """The same app as `flask run`, under gunicorn's threaded workers (keep-alive, no dev server)."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}",
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
        "workit:create_app()",
    ]
    with running(spawn("gunicorn", command, logs, cwd=code_dir, env=env)) as service:
        service.url = f"http://{HOST}:{port}"
        # Our app answering, not just a port open: the form's page.
        wait_for(lambda: "Working-It" in requests.get(service.url, timeout=1).text, 30, f"gunicorn ({code_dir})", service)
        yield service
