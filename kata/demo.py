"""`make demo`: the lesson's story with real processes, from the form to the inbox.

Starts Redis, maildump, a Giphy stand-in that answers after a delay, the synchronous app
(solutions/01_sync) and the finished background app (solutions/08_schedule, its database
migrated into a temporary SQLite file) with its Celery worker (one, reading both its queues); posts the same form to both;
prints both response times, then waits for the email and reads the request's status page.

Each app is timed twice: its first POST, which also pays for what a process does once
(connecting to Redis, for the background app), and the steady state, the median of the next
STEADY posts. The sync app's steady posts go out STEADY_AT_ONCE at a time: one after another
they would take STEADY x the Giphy delay. The background app's come after WARM_UP unmeasured
ones: a fresh process runs its first few dozen requests slower (Python specialises its hot code
as it runs, SQLAlchemy and the connection pools fill their caches), by more than a millisecond,
where the sync app's two seconds do not move.

Both apps run as they are deployed, under gunicorn (one process, threads), not `flask run`
(Werkzeug's development server: a thread started and a log line written per request); without
gunicorn (Windows), `flask run`. The background app's request does all it does in production:
the CSRF check, its two sending limits counted in Redis (set high enough for the demo's posts),
the check for a form sent before, validation, the row written and committed, the job queued.
The clock times the POST alone, on the page's kept-alive connection, with http.client: a client
library's own work is the client's, not the app's (requests spent 2.7 ms of the client's CPU per
POST on a shared 2-core machine, http.client 0.5 ms; bench/README.md).
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import click
import requests

from kata.stack import (
    GiphyStandIn,
    Maildump,
    StackError,
    app_environment,
    gunicorn_available,
    maildump_service,
    migrate_database,
    redis_service,
    web_service,
    worker_service,
)

ROOT = Path(__file__).resolve().parent.parent
BACKGROUND_APP = ROOT / "solutions" / "08_schedule"
FORM = {"mailers[email]": "learner@example.com", "mailers[thought]": "a cat typing very fast"}
SYNC_EMAIL = "sync@example.com"  # the sync app's emails, told apart from the background one's
STEADY = 20  # posts after the first, for the steady state (their median)
STEADY_AT_ONCE = 10
WARM_UP = 20  # unmeasured posts to the background app before its steady ones
DEMO_QUEUES = ("celery", "giphy", "email")  # where a job may wait: step 07 has two queues
# The finished app's sending limits stay on (counted in Redis on every POST, as in production),
# with room for the demo's posts, all from one client to one address.
DEMO_LIMITS = {"RATELIMIT_ENABLED": "1", "RATELIMIT_PER_CLIENT": "1000 per minute", "RATELIMIT_PER_RECIPIENT": "1000 per hour"}
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass(frozen=True)
class Answer:
    status_code: int
    location: str


def post_form(base_url: str, email: str = FORM["mailers[email]"]) -> tuple[float, Answer]:
    """POST the form like a browser: load the page, then post it back with its hidden fields (the
    CSRF token and the submission id, from step 04 on) and its session cookie, on the same
    kept-alive connection. Only the POST is timed."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.request("GET", "/")
        page = connection.getresponse()
        fields = {**dict(HIDDEN.findall(page.read().decode())), **FORM, "mailers[email]": email}
        cookie = "; ".join(value.split(";", 1)[0] for value in page.headers.get_all("Set-Cookie") or [])
        headers = {"Content-Type": "application/x-www-form-urlencoded", **({"Cookie": cookie} if cookie else {})}
        body = urlencode(fields)
        started = time.perf_counter()
        connection.request("POST", "/mailers", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        took = time.perf_counter() - started
    finally:
        connection.close()
    return took, Answer(answer.status, answer.headers.get("Location", ""))


def steady_times(base_url: str, email: str, at_once: int, warm_up: int = 0) -> list[float]:
    """The times of STEADY more posts (after `warm_up` unmeasured ones), `at_once` at a time; each
    must be answered with a redirect."""
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        posts = list(pool.map(lambda _: post_form(base_url, email), range(warm_up + STEADY)))[warm_up:]
    failed = [describe(answer) for _, answer in posts if answer.status_code not in (302, 303)]
    if failed:
        raise StackError(f"{len(failed)} of the {STEADY} posts to {base_url} failed: {failed[:3]}")
    return [took for took, _ in posts]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def demo_request_ids(database: Path) -> set[str]:
    """The ids of the requests the background app (step 06 on) keeps in the demo's database."""
    import sqlite3

    if not database.exists():
        return set()
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM mailer_requests")}


def take_back_demo_jobs(redis_url: str, database: Path) -> int:
    """Remove the demo's jobs still waiting in Redis (only those: the queue may be yours).

    A step 04/05 job names the demo's address; a step 06 job, one of the demo's requests. From
    step 07 they wait in the queues giphy and email, before that in celery."""
    import redis as redis_client

    from kata.broker import decode_task_message

    client = redis_client.Redis.from_url(redis_url, socket_timeout=5)
    ours = [FORM["mailers[email]"], *demo_request_ids(database)]
    taken = 0
    for queue in DEMO_QUEUES:
        for raw in client.lrange(queue, 0, -1):
            try:
                message = decode_task_message(raw)
            except (ValueError, LookupError, TypeError):
                continue
            if message.args[:1] and message.args[0] in ours:
                taken += client.lrem(queue, 1, raw)
    return taken


def wait_for_mail(inbox: Maildump, to: str, timeout: float) -> list[dict[str, object]]:
    """The emails to `to`, once there is one (or `timeout` seconds have passed)."""
    started = time.monotonic()
    while True:
        messages = [m for m in inbox.messages() if to in m["recipients"]["to"]]  # type: ignore[index]
        waited = time.monotonic() - started
        if sys.stdout.isatty():
            print(f"\r  waiting for the background app's email... {waited:4.1f} s", end="", flush=True)
        if messages or waited > timeout:
            if sys.stdout.isatty():
                print()
            return messages
        time.sleep(0.1)


def describe(answer: Answer) -> str:
    return f"{answer.status_code} -> {answer.location}" if answer.location else str(answer.status_code)


@click.command()
@click.option("--giphy-delay", default=2.0, show_default=True, help="seconds the Giphy stand-in waits")
def main(giphy_delay: float) -> None:
    """Run the sync and the background app side by side and time the same request."""
    real_giphy = bool(os.environ.get("GIPHY_API_KEY"))
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="workit-demo-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
        redis = None
        try:
            redis = stack.enter_context(redis_service(logs))
            click.echo(f"Redis: {redis.url} ({'embedded fakeredis: no redis-server installed' if redis.kind == 'embedded' else redis.kind})")
            inbox = stack.enter_context(maildump_service(logs))
            click.echo(f"Inbox: maildump, SMTP on port {inbox.smtp_port}, web at {inbox.inbox_url}")
            giphy_url = None
            if real_giphy:
                click.echo("Giphy: the real API (GIPHY_API_KEY is set)")
            else:
                giphy = stack.enter_context(GiphyStandIn(delay=giphy_delay))
                giphy_url = giphy.api_url
                click.echo(f"Giphy: a local stand-in that answers after {giphy_delay:.1f} s ({giphy_url})")
            env = {**app_environment(redis.url, inbox, giphy_url), "DATABASE_URL": f"sqlite:///{logs / 'workit.sqlite3'}"}
            if not real_giphy:  # the stand-in has no budget: no rate limit on the lookups (step 07)
                env["GIPHY_RATE_LIMIT"] = ""
            env.update(DEMO_LIMITS)
            migrate_database(BACKGROUND_APP, env, logs)
            # Threads for the sync app's STEADY_AT_ONCE posts at once, each held by Giphy.
            threads = STEADY_AT_ONCE if gunicorn_available() else 0
            server = "gunicorn, one process of threads" if threads else "flask run (no gunicorn here)"
            sync_web = stack.enter_context(web_service(ROOT / "solutions" / "01_sync", env, logs, "web-sync", gunicorn_threads=threads))
            background_web = stack.enter_context(web_service(BACKGROUND_APP, env, logs, "web-background", gunicorn_threads=threads))
            stack.enter_context(worker_service(BACKGROUND_APP, env, logs))
            click.echo(f"Started: the sync app (step 01) and the finished background app (step 08), each under {server},")
            click.echo("and the background app's Celery worker.\n")
            for web in (sync_web, background_web):  # first page load: templates, imports
                requests.get(f"{web.url}/", timeout=10).raise_for_status()

            sync_first, sync_answer = post_form(sync_web.url, SYNC_EMAIL)
            background_first, background_answer = post_form(background_web.url)
            click.echo("POST /mailers, the first request (the background app connects to Redis on its first):")
            click.echo(f"  synchronous app: {ms(sync_first)}  ({describe(sync_answer)})")
            click.echo(f"  background app:  {ms(background_first)}  ({describe(background_answer)})")
            click.echo(f"  the background request was {sync_first / background_first:.0f}x faster")
            sync_steady = statistics.median(steady_times(sync_web.url, SYNC_EMAIL, STEADY_AT_ONCE))
            background_steady = statistics.median(steady_times(background_web.url, FORM["mailers[email]"], 1, WARM_UP))
            click.echo(
                f"POST /mailers, steady state (median of the next {STEADY}: the background ones after {WARM_UP} "
                f"unmeasured, to warm up; the sync ones {STEADY_AT_ONCE} at a time):"
            )
            click.echo(f"  synchronous app: {ms(sync_steady)}")
            click.echo(f"  background app:  {ms(background_steady)}")
            click.echo(f"  the background request was {sync_steady / background_steady:.0f}x faster\n")

            background_mail = wait_for_mail(inbox, FORM["mailers[email]"], timeout=60)
            if not background_mail:
                raise StackError(f"the background app's email did not arrive within 60 s; logs were in {logs}")
            newest = inbox.message(int(background_mail[0]["id"]))
            html = inbox.html(int(background_mail[0]["id"]))
            gif = html.split('src="', 1)[1].split('"', 1)[0] if 'src="' in html else "(no GIF found)"
            click.echo(f"The background app's first email arrived: {newest['subject']!r} to {FORM['mailers[email]']}")
            click.echo(f"  GIF:   {gif}")
            status_page = background_answer.location
            if status_page:
                status: dict[str, object] = {}
                for _ in range(50):  # the worker commits "sent" just after the email is handed over
                    status = requests.get(
                        requests.compat.urljoin(background_web.url, status_page), headers={"Accept": "application/json"}, timeout=10
                    ).json()
                    if status.get("done"):
                        break
                    time.sleep(0.1)
                click.echo(f"  Its status page, {status_page}, says: {status.get('words', status.get('status'))}")
            click.echo(f"  Inbox: {inbox.inbox_url} (gone when the demo ends; `make run` keeps a stack up)")
        except StackError as problem:
            raise click.ClickException(f"{problem}. This is a set-up problem, not a bug in your code.") from None
        except KeyboardInterrupt:
            interrupted = True
            click.echo("\nInterrupted: stopping everything.")
        finally:
            click.echo("Stopping the stack...")
            if redis is not None:  # the worker would send the rest later, from your Redis too
                taken = take_back_demo_jobs(redis.url, logs / "workit.sqlite3")
                if taken:
                    click.echo(f"  took the demo's {taken} unsent jobs back out of Redis")
    click.echo("Done: nothing left running.")
    if interrupted:
        raise SystemExit(130)


if __name__ == "__main__":
    main()
