"""`python -m bench.post_profile`: where the time of one POST /mailers goes (issue 27).

Serves one or more code directories' `workit` (the finished app by default) at once, each in a
process of its own, over one redis-server and a migrated SQLite file each, with the sending
limits on (counted, never reached), and posts the form to them in turn like `make demo`'s client:
the page, then the POST with its hidden fields and cookie on the kept-alive connection, timed
with http.client. Each server counts, per POST: the SQL statements, the Redis round trips (one
per command or pipeline sent), the email validations (email-validator's), and the CPU time of the
thread that handled it. With --phases, also the CPU and wall time of the request's parts.

    python -m bench.post_profile                              # solutions/08_schedule, gunicorn
    python -m bench.post_profile --server flask               # under werkzeug's threaded server
    python -m bench.post_profile before=/tmp/old/solutions/08_schedule after=solutions/08_schedule

Interleaving the servers treats them alike under a machine's changing load, but each request
then finds the CPU's caches cold from the other servers' work: every figure is higher than one
server alone would show. Compare the columns of one run; rerun for the spread. Needs
redis-server on PATH. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
FINISHED_APP = ROOT / "solutions" / "08_schedule"
FORM = {"mailers[email]": "learner@example.com", "mailers[thought]": "a cat typing very fast"}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
WARM_UP = 20  # posts to each server before the measured ones
LIMITS = {"RATELIMIT_ENABLED": "1", "RATELIMIT_PER_CLIENT": "100000 per minute", "RATELIMIT_PER_RECIPIENT": "100000 per hour"}
COUNTS = ("SQL statements", "Redis round trips", "email validations")


# --- the server side: a child process per code directory -------------------------------------


class Counter(threading.local):
    now: dict[str, float] | None = None

    def add(self, name: str, value: float = 1) -> None:
        if self.now is not None:
            self.now[name] = self.now.get(name, 0) + value


COUNTER = Counter()


def timed(label: str, function: Any) -> Any:
    """`function`, adding its thread CPU and wall time to the current POST's `label`."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if COUNTER.now is None:
            return function(*args, **kwargs)
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            COUNTER.add(f"{label}: CPU ms", (time.thread_time() - cpu) * 1000)
            COUNTER.add(f"{label}: wall ms", (time.perf_counter() - wall) * 1000)

    return wrapper


def patch(owner: Any, name: str, label: str) -> None:
    if hasattr(owner, name):
        setattr(owner, name, timed(label, getattr(owner, name)))


PHASES = [  # the request's parts, in the order they run
    "session cookie: read",
    "before_request functions (all)",
    "  CSRF check",
    "  the check for a form sent before",
    "  email-validator (all its calls)",
    "    its SELECT",
    "Flask-Limiter (both checks)",
    "  its Redis round trips (hit)",
    "the INSERT (flush)",
    "the commit",
    "the SELECT after the commit (record.id)",
    "queueing the job (apply_async)",
    "session cookie: write",
]


def install_phases() -> None:
    """Timers around the request's parts (inclusive: a part's time holds its parts')."""
    import celery.app.task
    import flask.app
    import flask.sessions
    import flask_limiter._extension
    import flask_wtf.csrf
    import limits.strategies
    import sqlalchemy.orm.session
    import sqlalchemy.orm.state

    import workit.validation
    import workit.views

    patch(flask.app.Flask, "preprocess_request", "before_request functions (all)")
    patch(workit.views, "earlier_request", "  the check for a form sent before")
    patch(sqlalchemy.orm.session.Session, "scalar", "    its SELECT")
    patch(workit.validation, "validate_email", "  email-validator (all its calls)")
    patch(flask_wtf.csrf.CSRFProtect, "protect", "  CSRF check")
    patch(flask_limiter._extension.Limiter, "_check_request_limit", "Flask-Limiter (both checks)")
    for strategy in ("MovingWindowRateLimiter", "FixedWindowRateLimiter", "SlidingWindowCounterRateLimiter"):
        patch(getattr(limits.strategies, strategy, None), "hit", "  its Redis round trips (hit)")
    patch(sqlalchemy.orm.session.Session, "flush", "the INSERT (flush)")
    patch(sqlalchemy.orm.session.Session, "commit", "the commit")
    patch(sqlalchemy.orm.state.InstanceState, "_load_expired", "the SELECT after the commit (record.id)")
    patch(celery.app.task.Task, "apply_async", "queueing the job (apply_async)")
    patch(flask.sessions.SecureCookieSessionInterface, "open_session", "session cookie: read")
    patch(flask.sessions.SecureCookieSessionInterface, "save_session", "session cookie: write")


def install_counters(app: Any) -> None:
    import redis.connection
    from sqlalchemy import event

    import workit.validation

    connection = getattr(redis.connection, "AbstractConnection", redis.connection.Connection)
    send = connection.send_packed_command

    def counted_send(self: Any, command: Any, check_health: bool = True) -> None:
        COUNTER.add("Redis round trips")
        return send(self, command, check_health)

    connection.send_packed_command = counted_send
    validate = workit.validation.validate_email  # what clean_form calls, whoever imported clean_form

    def counted_validate(*args: Any, **kwargs: Any) -> Any:
        COUNTER.add("email validations")
        return validate(*args, **kwargs)

    workit.validation.validate_email = counted_validate
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        event.listen(db.engine, "before_cursor_execute", lambda *_: COUNTER.add("SQL statements"))


def serve(server: str, port: int, posts: int, out: Path, phases: bool) -> None:
    """In the child: the app of the current directory, served until `posts` POSTs are counted."""
    sys.path.insert(0, os.getcwd())
    if phases:
        install_phases()
    from workit import create_app

    app = create_app()
    install_counters(app)
    rows: list[dict[str, float]] = []
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] != "POST":
            return inner(environ, start_response)
        COUNTER.now = {}
        cpu, wall = time.thread_time(), time.perf_counter()
        body = list(inner(environ, start_response))
        COUNTER.now["CPU ms (the handling thread)"] = (time.thread_time() - cpu) * 1000
        COUNTER.now["wall ms (in the app)"] = (time.perf_counter() - wall) * 1000
        rows.append(COUNTER.now)
        COUNTER.now = None
        if len(rows) == WARM_UP + posts:
            out.write_text(json.dumps(rows[WARM_UP:]))
        return body

    app.wsgi_app = wsgi  # type: ignore[method-assign]
    if server == "gunicorn":
        from gunicorn.app.base import BaseApplication

        class Gunicorn(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": "gthread", "threads": 10}.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return app

        Gunicorn().run()
    else:
        from werkzeug.serving import WSGIRequestHandler, make_server

        WSGIRequestHandler.log_request = lambda *_args, **_kwargs: None  # type: ignore[method-assign]
        make_server("127.0.0.1", port, app, threaded=True).serve_forever()


# --- the client side -------------------------------------------------------------------------


def post(port: int) -> float:
    """The form's page, then the POST on the same connection: the POST's seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/")
        page = connection.getresponse()
        fields = {**dict(HIDDEN.findall(page.read().decode())), **FORM}
        cookie = "; ".join(value.split(";", 1)[0] for value in page.headers.get_all("Set-Cookie") or [])
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        started = time.perf_counter()
        connection.request("POST", "/mailers", body=urlencode(fields), headers=headers)
        answer = connection.getresponse()
        answer.read()
        took = time.perf_counter() - started
    finally:
        connection.close()
    if answer.status != 303:
        raise RuntimeError(f"POST /mailers on port {port} answered {answer.status}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.post_profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("apps", nargs="*", metavar="NAME=DIR", help="servers to compare (default: solutions/08_schedule)")
    parser.add_argument("--server", choices=("gunicorn", "flask"), default="gunicorn", help="gunicorn gthread, or werkzeug threaded (as flask run)")
    parser.add_argument("--posts", type=int, default=300, help="measured posts per server, after 20 to warm up")
    parser.add_argument("--phases", action="store_true", help="also time the request's parts (adds its own overhead)")
    args = parser.parse_args()
    apps = dict(spec.split("=", 1) for spec in args.apps) if args.apps else {"08": str(FINISHED_APP)}

    from kata.stack import free_port, migrate_database, redis_service, running, spawn, wait_until

    os.environ.pop("REDIS_URL", None)
    with tempfile.TemporaryDirectory(prefix="workit-post-profile-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
        redis = stack.enter_context(redis_service(logs, allow_embedded=False))
        servers = []
        for name, directory in apps.items():
            code_dir = Path(directory).resolve()
            env = {
                "REDIS_URL": redis.url, "SECRET_KEY": os.urandom(16).hex(), "PYTHONUNBUFFERED": "1",
                "DATABASE_URL": f"sqlite:///{logs / (name + '.sqlite3')}", **LIMITS,
            }  # fmt: skip
            migrate_database(code_dir, env, logs)
            port, out = free_port(), logs / f"{name}.json"
            command = [sys.executable, "-m", "bench.post_profile", "--serve", args.server, str(port), str(args.posts), str(out)]
            command += ["--with-phases"] if args.phases else []
            service = stack.enter_context(running(spawn(f"server-{name}", command, logs, cwd=code_dir, env={**env, "PYTHONPATH": str(ROOT)})))
            wait_until(lambda port=port: http_ok(port), 30, f"the server of {name}", service)
            servers.append((name, port, out, []))
        for number in range(WARM_UP + args.posts):
            for _name, port, _out, times in servers:
                took = post(port)
                if number >= WARM_UP:
                    times.append(took * 1000)
        deadline = time.monotonic() + 10
        while not all(out.exists() for _name, _port, out, _times in servers) and time.monotonic() < deadline:
            time.sleep(0.05)
        load = os.getloadavg()
        report(args, [(name, times, json.loads(out.read_text())) for name, _port, out, times in servers], load)


def http_ok(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status == 200
    finally:
        connection.close()


def report(args: argparse.Namespace, results: list[tuple[str, list[float], list[dict[str, float]]]], load: tuple[float, ...]) -> None:
    names = [name for name, _times, _rows in results]
    width = max(16, *(len(name) + 2 for name in names))
    print(f"POST /mailers under {args.server}, {args.posts} posts per server after {WARM_UP} to warm up, "
          f"interleaved; medians. Load average {load[0]:.2f} {load[1]:.2f} on {os.cpu_count()} cores.")
    print(f"{'':46}" + "".join(f"{name:>{width}}" for name in names))

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row.get(key, 0) for row in rows)

    print(f"{'client p50 ms (http.client)':46}" + "".join(f"{statistics.median(times):>{width}.3f}" for _n, times, _r in results))
    for key in ("CPU ms (the handling thread)", "wall ms (in the app)"):
        print(f"{key:46}" + "".join(f"{median(rows, key):>{width}.3f}" for _n, _t, rows in results))
    for key in COUNTS:
        print(f"{key:46}" + "".join(f"{median(rows, key):>{width}.0f}" for _n, _t, rows in results))
    labels = list(dict.fromkeys(key.rsplit(": ", 1)[0] for _n, _t, rows in results for row in rows for key in row if ": " in key))
    if labels:
        print(f"{'parts, CPU ms / wall ms (inclusive):':46}")
        for label in sorted(labels, key=PHASES.index):
            cells = [f"{median(rows, label + ': CPU ms'):.3f} / {median(rows, label + ': wall ms'):.3f}" for _n, _t, rows in results]
            print(f"  {label:44}" + "".join(f"{cell:>{width}}" for cell in cells))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        server, port, posts, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
        serve(server, port, posts, out, phases="--with-phases" in sys.argv)
    else:
        main()
