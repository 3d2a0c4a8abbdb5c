"""Beyond step 06 (issue 20), over real HTTP: the limits on sending hold across web processes.

Runs with --solutions --integration. Two `flask run` processes share one Redis and one
database; the forms go to one then the other. And the flood of issue 20, 100 valid forms in a
row to one address, against the default limits; then Redis stops, and the form gets a 503
rather than a 500 or no limit. The Redis is redis-server, or where it is not installed, the
embedded Redis in a process of its own.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
import requests

from kata.page import read_page
from kata.stack import RedisInfo, migrate_database, web_service
from kata.stack_fixtures import own_redis_process

pytestmark = [pytest.mark.reference, pytest.mark.integration]

THOUGHT = "Illusions, Michael"
TOO_MANY_FROM_YOU = "a lot of forms in a short time"
TOO_MANY_TO_THEM = "That address has had several emails"
LIMITS_UNAVAILABLE = "our mail queue is not answering"


@pytest.fixture
def own_redis(stack_logs: Path) -> Iterator[RedisInfo]:
    """A Redis process of this test's own: counts from no other test, and it can be stopped
    (redis-server, or where it is not installed, the embedded Redis in a child process)."""
    with own_redis_process(stack_logs, "redis-limits") as info:
        yield info


@pytest.fixture
def limited_env(stack_env, own_redis, tmp_path, code_dir, stack_logs) -> dict[str, str]:
    env = {
        **stack_env,
        "REDIS_URL": own_redis.url,
        "RATELIMIT_ENABLED": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'workit.sqlite3'}",
    }
    migrate_database(code_dir, env, stack_logs)
    return env


def send(session: requests.Session, web: str, email: str) -> requests.Response:
    """A fresh form from `web`'s page, filled in and sent, as a browser would."""
    page = session.get(f"{web}/", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    fields = {
        "mailers[email]": email,
        "mailers[thought]": THOUGHT,
        "submission": read_page(page).values.get("submission") or "",
        "csrf_token": token.group(1) if token else "",
    }
    return session.post(f"{web}/mailers", data=fields, allow_redirects=False, timeout=10)


def queued(redis_url: str) -> int:
    return int(redis.Redis.from_url(redis_url).llen("celery"))


def rows(env: dict[str, str]) -> int:
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM mailer_requests").fetchone()[0])


def test_the_limits_hold_across_two_web_processes(limited_env, own_redis, code_dir, stack_logs):
    env = {**limited_env, "RATELIMIT_PER_CLIENT": "4 per minute", "RATELIMIT_PER_RECIPIENT": "2 per hour"}
    with ExitStack() as stack:
        one, other = (stack.enter_context(web_service(code_dir, env, stack_logs, name=f"web-{n}")).url for n in (1, 2))
        session = requests.Session()
        plan = [(one, "gob@example.com"), (other, "gob@example.com"), (one, "gob@example.com"),
                (other, "buster@example.com"), (one, "lindsay@example.com")]
        sent = [send(session, web, email) for web, email in plan]

    codes = [answer.status_code for answer in sent]
    assert codes == [303, 303, 429, 303, 429], (
        f"two web processes on one Redis, 2 per hour per recipient and 4 per minute per client: "
        f"three forms to one address, then two to others, sent to each process in turn, answered "
        f"{codes}; expected [303, 303, 429, 303, 429]: the limits are counted in Redis, for both "
        "web processes together."
    )
    assert TOO_MANY_TO_THEM in read_page(sent[2].text).shown and TOO_MANY_FROM_YOU in read_page(sent[4].text).shown, (
        f"the 429 pages say {read_page(sent[2].text).shown[:200]!r} and {read_page(sent[4].text).shown[:200]!r}"
    )
    assert all(int(sent[n].headers.get("Retry-After", "0")) > 0 for n in (2, 4)), [sent[n].headers for n in (2, 4)]
    assert (queued(own_redis.url), rows(env)) == (3, 3), (
        f"{queued(own_redis.url)} jobs queued and {rows(env)} rows written for 3 forms let through; "
        "a form over a limit queues and writes nothing."
    )


def test_the_flood_of_issue_20_meets_the_default_limits(limited_env, own_redis, code_dir, stack_logs):
    # Issue 20: 100 valid forms in a row from one client, all to one address, used to be 100 emails.
    with web_service(code_dir, limited_env, stack_logs) as web:
        session = requests.Session()
        sent = [send(session, web.url, "stranger@example.com") for _ in range(100)]
        codes = [answer.status_code for answer in sent]
        own_redis.service.stop()  # then Redis goes away
        down = send(session, web.url, "stranger@example.com")

    accepted, refused = codes.count(303), codes.count(429)
    print(f"issue 20's flood: {accepted} accepted, {refused} refused with 429, {len(codes) - accepted - refused} else")
    assert (accepted, refused) == (3, 97), (
        f"100 forms to one address answered 303 {accepted} times and 429 {refused} times; expected 3 "
        "and 97 with the default limits (3 per hour per recipient)."
    )
    assert all(answer.headers.get("Retry-After") for answer in sent if answer.status_code == 429)
    assert rows(limited_env) == 3, f"{rows(limited_env)} rows for 3 forms let through"
    assert down.status_code == 503 and LIMITS_UNAVAILABLE in read_page(down.text).shown, (
        f"with Redis stopped the form answered {down.status_code}: {read_page(down.text).shown[:300]!r}; "
        "expected 503 saying the queue is not answering: the limits fail closed, never a 500."
    )
