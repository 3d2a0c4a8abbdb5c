"""`make demo`: the lesson's story with real processes, from the form to the inbox.

Starts Redis, maildump, a Giphy stand-in that answers after a delay, the synchronous app
(solutions/01_sync) and the finished background app (solutions/06_status, its database
migrated into a temporary SQLite file) with its Celery worker; posts the same form to both;
prints both response times, then waits for the email and reads the request's status page.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import click
import requests

from kata.stack import (
    GiphyStandIn,
    Maildump,
    StackError,
    app_environment,
    maildump_service,
    migrate_database,
    redis_service,
    web_service,
    worker_service,
)

ROOT = Path(__file__).resolve().parent.parent
BACKGROUND_APP = ROOT / "solutions" / "06_status"
FORM = {"mailers[email]": "learner@example.com", "mailers[thought]": "a cat typing very fast"}


def post_form(base_url: str) -> tuple[float, requests.Response]:
    """POST the form like a browser: with the page's CSRF token (step 04 on) and its cookie."""
    session = requests.Session()
    page = session.get(f"{base_url}/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    fields = {**FORM, "csrf_token": token.group(1)} if token else FORM
    started = time.perf_counter()
    answer = session.post(f"{base_url}/mailers", data=fields, allow_redirects=False, timeout=30)
    return time.perf_counter() - started, answer


def wait_for_mail(inbox: Maildump, count: int, timeout: float) -> list[dict[str, object]]:
    started = time.monotonic()
    while True:
        messages = inbox.messages()
        waited = time.monotonic() - started
        if sys.stdout.isatty():
            print(f"\r  waiting for the email... {waited:4.1f} s, {len(messages)}/{count} arrived", end="", flush=True)
        if len(messages) >= count or waited > timeout:
            if sys.stdout.isatty():
                print()
            return messages
        time.sleep(0.1)


def describe(answer: requests.Response) -> str:
    where = answer.headers.get("Location", "")
    return f"{answer.status_code} -> {where}" if where else str(answer.status_code)


@click.command()
@click.option("--giphy-delay", default=2.0, show_default=True, help="seconds the Giphy stand-in waits")
def main(giphy_delay: float) -> None:
    """Run the sync and the background app side by side and time the same request."""
    real_giphy = bool(os.environ.get("GIPHY_API_KEY"))
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="workit-demo-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
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
            migrate_database(BACKGROUND_APP, env, logs)
            sync_web = stack.enter_context(web_service(ROOT / "solutions" / "01_sync", env, logs, "web-sync"))
            background_web = stack.enter_context(web_service(BACKGROUND_APP, env, logs, "web-background"))
            stack.enter_context(worker_service(BACKGROUND_APP, env, logs))
            click.echo("Started: the sync app (step 01), the finished background app (step 06) and its Celery worker.\n")
            for web in (sync_web, background_web):  # first page load: templates, imports
                requests.get(f"{web.url}/", timeout=10).raise_for_status()

            sync_time, sync_answer = post_form(sync_web.url)
            click.echo(f"POST /mailers, synchronous app:   {sync_time * 1000:8.1f} ms  ({describe(sync_answer)})")
            background_time, background_answer = post_form(background_web.url)
            click.echo(f"POST /mailers, background app:    {background_time * 1000:8.1f} ms  ({describe(background_answer)})")
            click.echo(f"The background request was {sync_time / background_time:.0f}x faster.\n")

            messages = wait_for_mail(inbox, 2, timeout=60)
            if len(messages) < 2:
                raise StackError(f"only {len(messages)} of 2 emails arrived within 60 s; logs were in {logs}")
            newest = inbox.message(int(messages[-1]["id"]))
            html = inbox.html(int(messages[-1]["id"]))
            gif = html.split('src="', 1)[1].split('"', 1)[0] if 'src="' in html else "(no GIF found)"
            click.echo(f"Both emails arrived. The background one: {newest['subject']!r} to {FORM['mailers[email]']}")
            click.echo(f"  GIF:   {gif}")
            status_page = background_answer.headers.get("Location", "")
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
    click.echo("Done: nothing left running.")
    if interrupted:
        raise SystemExit(130)


if __name__ == "__main__":
    main()
