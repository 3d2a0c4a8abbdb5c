"""A real browser (`--integration`, with Chromium): headless Chromium fills in the form and
watches the status page go from queued to sent, without a reload, then stop asking."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kata.stack import GiphyStandIn, migrate_database, StackError, web_service, worker_service

pytestmark = pytest.mark.integration

EMAIL = "ada@example.com"

SCREENSHOTS_ENV = "KATA_SCREENSHOTS"  # a folder for the status page's screenshot


def words(status: str) -> str:
    from workit.models import STATUS_WORDS

    return STATUS_WORDS[status]


def test_the_status_page_goes_from_queued_to_sent_without_a_reload(
    browser_page, code_dir, real_redis, mail_inbox, stack_logs, tmp_path
) -> None:
    from kata.stack import app_environment

    with GiphyStandIn(delay=1.5) as giphy:  # a slow Giphy: the page has time to say "sending"
        env = {**app_environment(real_redis.url, mail_inbox, giphy.api_url), "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}"}
        try:
            migrate_database(code_dir, env, stack_logs)
        except StackError as problem:
            raise AssertionError(f"`flask db upgrade` did not make the tables (README, tasks 1 and 3): {problem}") from None
        with web_service(code_dir, env, stack_logs) as web, worker_service(code_dir, env, stack_logs):
            page = browser_page
            asked: list[float] = []
            page.on("request", lambda r: asked.append(time.monotonic()) if "/mailers/" in r.url else None)
            page.goto(web.url + "/")
            page.fill('input[name="mailers[email]"]', EMAIL)
            page.fill('[name="mailers[thought]"]', "a cat typing very fast")
            page.get_by_role("button", name="Give me the randomness...").click()
            page.wait_for_url("**/mailers/*")
            page.evaluate("window.kataNoReload = true")
            first = page.inner_text("body")
            assert words("queued") in first or words("sending") in first, (
                f"the status page, just after the form, says:\n{first[:500]}\nexpected the words for "
                "queued or sending (README, task 5)."
            )
            try:
                page.wait_for_function("(w) => document.body.innerText.includes(w)", arg=words("sent"), timeout=15000)
            except Exception:
                raise AssertionError(
                    "the status page never said the email was sent, though the worker had 15 s: "
                    f"it says\n{page.inner_text('body')[:500]}\nIts script asks for the JSON and shows "
                    "the new words, until done (README, task 5)."
                ) from None
            reloaded = not page.evaluate("window.kataNoReload === true")
            folder = Path(os.environ.get(SCREENSHOTS_ENV) or stack_logs)
            folder.mkdir(parents=True, exist_ok=True)
            shot = folder / "status-page.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"kata: the status page, sent: {shot}")
            done_at = len(asked)
            time.sleep(2.5)
            after = len(asked) - done_at
            messages = mail_inbox.wait_for(1, timeout=10)

    assert not reloaded, "the page reloaded itself to show the new status; the script is to change the words in place."
    assert after == 0, f"the page asked for its status {after} more time(s) in the 2.5 s after it said sent: stop once done."
    assert [m["recipients"]["to"] for m in messages] == [[EMAIL]]
