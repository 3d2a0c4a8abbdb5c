"""The real stack (`pytest stages/06_status --integration`): `flask db upgrade` on a new
database, `flask run`, a real `celery worker`, redis-server and maildump on free loopback ports.

On SQLite, the default; and on a PostgreSQL started for the test in a temporary folder, where
PostgreSQL's initdb is installed (CI installs it; elsewhere that test is skipped and the run's
last lines say so).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kata.services import missing
from kata.stack import StackError, migrate_database, postgres_binaries, postgres_service, web_service, worker_service

pytestmark = pytest.mark.integration

EMAIL = "gob@example.com"
THOUGHT = "I've made a huge mistake"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, stack_logs: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'workit.sqlite3'}"
        return
    if postgres_binaries() is None:
        missing("postgresql", "no initdb on PATH or under /usr/lib/postgresql")
    with postgres_service(stack_logs) as url:
        yield url


def upgrade(code_dir: Path, env: dict[str, str], logs: Path) -> None:
    try:
        migrate_database(code_dir, env, logs)
    except StackError as problem:
        raise AssertionError(
            f"`flask --app workit db upgrade` did not make the tables (README, tasks 1 and 3): {problem}"
        ) from None


def post_form(web: str) -> requests.Response:
    session = requests.Session()
    page = session.get(f"{web}/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    fields = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT, "csrf_token": token.group(1) if token else ""}
    return session.post(f"{web}/mailers", data=fields, allow_redirects=False, timeout=10)


def wait_until_done(url: str, timeout: float) -> list[str]:
    """The statuses the JSON said, in order, until `done` (or the time is up)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(url, headers={"Accept": "application/json"}, timeout=5)
        body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
        if not seen or seen[-1] != body.get("status"):
            seen.append(body.get("status"))
        if body.get("done"):
            break
        time.sleep(0.05)
    return seen


def test_a_form_becomes_a_request_that_a_real_worker_sends(
    code_dir, stack_env, stack_logs, mail_inbox, database_url
) -> None:
    env = {**stack_env, "DATABASE_URL": database_url}
    upgrade(code_dir, env, stack_logs)
    with web_service(code_dir, env, stack_logs) as web, worker_service(code_dir, env, stack_logs) as worker:
        answer = post_form(web.url)
        where = answer.headers.get("Location", "")
        assert answer.status_code == 303 and re.fullmatch(r".*/mailers/[A-Za-z0-9_-]{16,}", where), (
            f"POST /mailers over HTTP answered {answer.status_code} to {where!r}; expected 303 to "
            f"/mailers/<id> (README, task 6).\n{answer.text[:300]}"
        )
        statuses = wait_until_done(requests.compat.urljoin(web.url, where), timeout=20)
        messages = mail_inbox.wait_for(1, timeout=10)
        logs = worker.output() + web.output()

    assert statuses and statuses[-1] == "sent", (
        f"the request's JSON said {statuses} and then no more; expected it to end 'sent' once a "
        f"real worker had sent the email ({database_url.split(':')[0]}). The worker's log:\n{logs[-1500:]}"
    )
    assert [m["recipients"]["to"] for m in messages] == [[EMAIL]]
    assert EMAIL not in logs and THOUGHT not in logs, (
        "the web app's or the worker's log holds the address or the thought: name the request by its id."
    )
