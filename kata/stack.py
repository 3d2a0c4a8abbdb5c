"""The real stack on loopback: redis-server, maildump, a Giphy stand-in, Flask and Celery.

Used by the integration tier and by `make demo`. Every service listens on a free port of
127.0.0.1, runs in its own process group and is stopped (then killed) on exit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from kata.giphy import random_body, search_body

HOST = "127.0.0.1"
STANDIN_GIF = "https://media.giphy.com/media/kata-standin/200.gif"


class StackError(RuntimeError):
    """A service of the stack could not start: an environment problem, not the learner's."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str, service: Service | None = None) -> None:
    """Poll `check` until it is true; a StackError with the service's last output otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and service.process.poll() is not None:
            raise StackError(f"{what}: the process exited with code {service.process.returncode}{service.tail()}")
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.02)
    raise StackError(f"{what}: not ready after {timeout:.0f} s{service.tail() if service else ''}")


def eventually(check: Any, timeout: float, interval: float = 0.1) -> bool:
    """Whether `check()` became true within `timeout` seconds, asked every `interval`."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        """The last lines the process printed, for an error message."""
        last = self.output().strip().splitlines()[-lines:]
        return f"\n--- last lines of {self.log} ---\n" + "\n".join(last) if last else f" (no output in {self.log})"

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is not None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        finally:
            if self.process.stdin is not None:
                self.process.stdin.close()


def spawn(
    name: str,
    command: list[str],
    logs: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    pass_fds: tuple[int, ...] = (),
    stdin_pipe: bool = False,
) -> Service:
    """`command` in a process group of its own, its output in logs/NAME.log. With `stdin_pipe`,
    its stdin is a pipe only this process holds: it reads end of file when this process ends."""
    log = logs / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            start_new_session=True,
            pass_fds=pass_fds,
        )
    return Service(name, process, log)


@contextmanager
def running(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        service.stop()


# --- Redis -------------------------------------------------------------------------------


@dataclass
class RedisInfo:
    url: str
    kind: str  # "redis-server", "REDIS_URL", "embedded" (a thread of this process) or "embedded process"
    service: Service | None = None  # the redis-server (or embedded Redis) process, when we started one


def redis_server_binary() -> str | None:
    """redis-server on PATH (None when absent, or hidden by KATA_HIDE_SERVICES)."""
    from kata.services import which

    return which("redis-server")


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_server(logs: Path, name: str = "redis") -> Iterator[RedisInfo]:
    """A redis-server of our own on a free loopback port, without persistence."""
    binary = redis_server_binary()
    if binary is None:
        raise StackError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    url = f"redis://{HOST}:{port}/0"
    with running(spawn(name, command, logs)) as service:
        wait_until(lambda: _redis_answers(url), 10, "redis-server", service)
        yield RedisInfo(url, "redis-server", service)


@contextmanager
def redis_service(logs: Path, allow_embedded: bool = True) -> Iterator[RedisInfo]:
    """REDIS_URL if set; else a redis-server on a free port; else fakeredis's TcpFakeServer."""
    if os.environ.get("REDIS_URL"):
        yield RedisInfo(os.environ["REDIS_URL"], "REDIS_URL")
        return
    if redis_server_binary():
        with redis_server(logs) as info:
            yield info
        return
    if not allow_embedded:
        raise StackError("redis-server is not installed (apt-get install redis-server) and REDIS_URL is not set")
    import fakeredis

    from kata.broker import TcpBroker

    broker = TcpBroker(fakeredis.FakeServer()).start()
    try:
        yield RedisInfo(broker.url, "embedded")
    finally:
        broker.stop()


@contextmanager
def embedded_redis_process(logs: Path, name: str = "redis") -> Iterator[RedisInfo]:
    """fakeredis's TCP server in a child Python (`kata.embedded_redis`), on a free port: a Redis
    that SIGSTOP hangs and SIGKILL stops as it would redis-server, and that ends with this process."""
    listening = socket.socket()
    try:
        listening.bind((HOST, 0))
        listening.listen(128)
        url = f"redis://{HOST}:{listening.getsockname()[1]}/0"
        command = [sys.executable, "-m", "kata.embedded_redis", str(listening.fileno())]
        here = Path(__file__).resolve().parents[1]  # `-m` imports this kata, wherever the caller runs
        service = spawn(name, command, logs, cwd=here, pass_fds=(listening.fileno(),), stdin_pipe=True)
    finally:
        listening.close()  # the child's copy alone listens: once it is gone, connections are refused
    with running(service):
        wait_until(lambda: _redis_answers(url), 10, "the embedded Redis (kata.embedded_redis)", service)
        yield RedisInfo(url, "embedded process", service)


@contextmanager
def redis_process(logs: Path, name: str = "redis", allow_embedded: bool = True) -> Iterator[RedisInfo]:
    """A Redis of the caller's own, as a process it may stop (SIGSTOP), let go on or kill:
    redis-server when installed, else the embedded Redis in a child process."""
    if redis_server_binary():
        with redis_server(logs, name) as info:
            yield info
        return
    if not allow_embedded:
        raise StackError("redis-server is not installed (apt-get install redis-server)")
    with embedded_redis_process(logs, name) as info:
        yield info


# --- Mail --------------------------------------------------------------------------------


@dataclass
class Maildump:
    service: Service
    smtp_port: int
    http_port: int

    @property
    def inbox_url(self) -> str:
        return f"http://{HOST}:{self.http_port}/"

    def messages(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.inbox_url}messages/", timeout=5)
        answer.raise_for_status()
        return list(answer.json()["messages"])

    def message(self, message_id: int) -> dict[str, Any]:
        answer = requests.get(f"{self.inbox_url}messages/{message_id}.json", timeout=5)
        answer.raise_for_status()
        return dict(answer.json())

    def html(self, message_id: int) -> str:
        answer = requests.get(f"{self.inbox_url}messages/{message_id}.html", timeout=5)
        answer.raise_for_status()
        return answer.text

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages()
            if len(messages) >= count or time.monotonic() > deadline:
                return messages
            time.sleep(0.05)


def maildump_command() -> list[str]:
    binary = shutil.which("maildump") or str(Path(sys.executable).with_name("maildump"))
    if not Path(binary).exists():
        raise StackError("maildump is not installed: run `make venv` (it installs the `stack` extra)")
    return [binary]


@contextmanager
def maildump_service(logs: Path) -> Iterator[Maildump]:
    smtp_port, http_port = free_port(), free_port()
    command = [*maildump_command(), "--smtp-port", str(smtp_port), "--http-port", str(http_port)]
    with running(spawn("maildump", command, logs)) as service:
        inbox = Maildump(service, smtp_port, http_port)
        wait_until(lambda: port_open(smtp_port) and inbox.messages() == [], 15, "maildump", service)
        yield inbox


# --- Giphy stand-in ----------------------------------------------------------------------


class StandInServer(ThreadingHTTPServer):
    """socketserver queues 5 waiting connections by default: when 128 workers look up at once
    (make bench, section 5) the kernel drops the rest of their SYNs, and each dropped lookup
    waits a second for its retry, a cost a real Giphy does not have."""

    daemon_threads = True
    request_queue_size = 1024


@dataclass
class GiphyStandIn:
    """A tiny Giphy on loopback: realistic search and random bodies after `delay` seconds."""

    delay: float = 0.0
    gif_url: str = STANDIN_GIF
    port: int = 0
    requests_seen: list[dict[str, Any]] = field(default_factory=list)

    def hold(self) -> None:
        """Keep every answer waiting until `release()`: a request that needs Giphy hangs."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def __post_init__(self) -> None:
        standin = self
        self._open = threading.Event()
        self._open.set()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                standin.requests_seen.append({"path": parts.path, "params": parse_qs(parts.query)})
                standin._open.wait(30)
                time.sleep(standin.delay)
                if parts.path.endswith("/search"):
                    body = search_body(standin.gif_url)
                elif parts.path.endswith("/random"):
                    body = random_body(standin.gif_url)
                else:
                    self.send_error(404)
                    return
                payload = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up waiting (a worker stopped mid-job): nobody to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = StandInServer((HOST, self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}/v1/gifs"

    def __enter__(self) -> GiphyStandIn:  # noqa: PYI034 - typing.Self is 3.11+; nothing subclasses the stand-in
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# --- The app: web and worker processes ---------------------------------------------------


def app_environment(redis_url: str, mail: Maildump, giphy_api_url: str | None) -> dict[str, str]:
    env = {
        "REDIS_URL": redis_url,
        "MAIL_SERVER": HOST,
        "MAIL_PORT": str(mail.smtp_port),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or os.urandom(16).hex(),
        "PYTHONUNBUFFERED": "1",
        # The finished app's limits on sending (solutions/06_status/workit/limits.py) are off
        # for the volume of the tests; the tests of the limits turn them on, and so does the
        # demo (kata/demo.py, with room for its posts).
        "RATELIMIT_ENABLED": "0",
    }
    if giphy_api_url:
        env["GIPHY_API_URL"] = giphy_api_url
        env.setdefault("GIPHY_API_KEY", "kata-standin-key")
    if os.environ.get("GIPHY_API_KEY"):
        env["GIPHY_API_KEY"] = os.environ["GIPHY_API_KEY"]
    return env


def gunicorn_available() -> bool:
    """Whether gunicorn (the `stack` extra) can serve here: installed, and not on Windows."""
    import importlib.util

    return sys.platform != "win32" and importlib.util.find_spec("gunicorn") is not None


@contextmanager
def web_service(
    code_dir: Path, env: Mapping[str, str], logs: Path, name: str = "web", *, gunicorn_threads: int = 0
) -> Iterator[Service]:
    """`flask --app workit run` in `code_dir`, on a free port. With `gunicorn_threads`, the app
    under gunicorn instead, as it is deployed: one worker process with that many threads
    (gthread: kept-alive connections, no access log), not Werkzeug's development server."""
    port = free_port()
    if gunicorn_threads:
        command = [
            sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", str(gunicorn_threads), "workit:create_app()",
        ]  # fmt: skip
    else:
        command = [sys.executable, "-m", "flask", "--app", "workit", "run", "--host", HOST, "--port", str(port), "--no-reload"]
    server = "gunicorn" if gunicorn_threads else "flask"
    with running(spawn(name, command, logs, cwd=code_dir, env=env)) as service:
        service.url = f"http://{HOST}:{port}"
        wait_until(lambda: "Working-It" in requests.get(service.url, timeout=1).text, 15, f"{server} ({code_dir})", service)
        yield service


@contextmanager
def worker_service(code_dir: Path, env: Mapping[str, str], logs: Path, concurrency: int = 1) -> Iterator[Service]:
    """`celery -A workit.worker worker` in `code_dir`, waiting until it says it is ready."""
    command = [
        sys.executable, "-m", "celery", "-A", "workit.worker", "worker",
        "--loglevel=INFO", f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
    ]
    with running(spawn("worker", command, logs, cwd=code_dir, env=env)) as service:
        wait_until(lambda: " ready." in service.output(), 30, f"celery worker ({code_dir})", service)
        yield service




@contextmanager
def beat_service(code_dir: Path, env: Mapping[str, str], logs: Path, schedule_file: Path) -> Iterator[Service]:
    """`celery -A workit.worker beat` in `code_dir` (stage 08 on), its schedule in `schedule_file`."""
    command = [
        sys.executable, "-m", "celery", "-A", "workit.worker", "beat",
        "-s", str(schedule_file), "--max-interval", "1", "--loglevel=INFO",
    ]
    with running(spawn("beat", command, logs, cwd=code_dir, env=env)) as service:
        wait_until(lambda: "beat: Starting..." in service.output(), 30, f"celery beat ({code_dir})", service)
        yield service


# --- The database (stage 06 on): migrations, and a PostgreSQL of its own -----------------


def migrate_database(code_dir: Path, env: Mapping[str, str], logs: Path) -> None:
    """`flask --app workit db upgrade` in `code_dir`: the tables of the database in env."""
    log = logs / "db-upgrade.log"
    command = [sys.executable, "-m", "flask", "--app", "workit", "db", "upgrade"]
    done = subprocess.run(command, check=False, cwd=code_dir, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise StackError(f"`flask db upgrade` in {code_dir} exited with code {done.returncode}:\n{(done.stdout + done.stderr)[-1500:]}")


def postgres_binaries() -> dict[str, str] | None:
    """initdb, pg_ctl (PATH, or Debian's /usr/lib/postgresql/N/bin), or None when absent (or
    hidden by KATA_HIDE_SERVICES=postgresql)."""
    from kata.services import hidden

    if hidden("postgresql"):
        return None
    found = {name: shutil.which(name) for name in ("initdb", "pg_ctl")}
    if not all(found.values()):
        for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
                found = {name: str(bindir / name) for name in ("initdb", "pg_ctl")}
                break
    return found if all(found.values()) else None  # type: ignore[return-value]


@contextmanager
def postgres_service(logs: Path) -> Iterator[str]:
    """A PostgreSQL cluster in a temporary folder on a free port; yields its URL.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the user `nobody`.
    """
    import pwd
    import tempfile

    binaries = postgres_binaries()
    if binaries is None:
        raise StackError("PostgreSQL is not installed (apt-get install postgresql): no initdb or pg_ctl")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="kata-postgres-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        as_user = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", "--"]
    data, port = folder / "data", free_port()
    log = logs / "postgres.log"

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], check=False, capture_output=True, text=True, timeout=60, cwd=folder)
        if done.returncode != 0:
            raise StackError(f"{Path(command[0]).name} failed ({done.returncode}): {(done.stdout + done.stderr)[-800:]}")

    try:
        run(binaries["initdb"], "-D", str(data), "-U", "workit", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {folder} -c listen_addresses={HOST} -c fsync=off"
        run(binaries["pg_ctl"], "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w", "start")
        try:
            yield f"postgresql://workit@{HOST}:{port}/postgres"
        finally:
            subprocess.run([*as_user, binaries["pg_ctl"], "-D", str(data), "-m", "immediate", "stop"], check=False, capture_output=True, timeout=60)
            server_log = folder / "server.log"
            if server_log.exists():
                log.write_text(server_log.read_text(errors="replace"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
