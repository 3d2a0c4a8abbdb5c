"""Processes the bench starts beyond kata.stack's: a worker with a chosen pool, gunicorn.

Built from kata.stack's own pieces (spawn, running, wait_until), so they run in their own
process group on loopback and are stopped, then killed, on the way out.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from kata.stack import HOST, Service, free_port, port_open, running, spawn, wait_until


@contextmanager
def worker(code_dir: Path, env: Mapping[str, str], logs: Path, pool: str, concurrency: int, name: str = "worker") -> Iterator[Service]:
    """`celery -A workit.worker worker --pool=POOL --concurrency=N`, as kata.stack.worker_service
    starts it (which has no pool option), waiting until it says it is ready."""
    command = [
        sys.executable, "-m", "celery", "-A", "workit.worker", "worker",
        "--loglevel=INFO", f"--pool={pool}", f"--concurrency={concurrency}",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    with running(spawn(name, command, logs, cwd=code_dir, env=env)) as service:
        wait_until(lambda: " ready." in service.output(), 60, f"celery worker {pool}x{concurrency}", service.process)
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
        wait_until(lambda: port_open(port), 30, f"gunicorn ({code_dir})", service.process)
        yield service
