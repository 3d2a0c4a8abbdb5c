"""End to end in a real browser: headless Chromium fills in the form of the finished app
(solutions/08_schedule), lands on the request's status page, sees it say sent without a reload,
and the email reaches maildump through the worker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kata.services import chromium_path, missing
from kata.stack import (
    STANDIN_GIF,
    GiphyStandIn,
    Maildump,
    RedisInfo,
    app_environment,
    migrate_database,
    web_service,
    worker_service,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FINISHED_APP = ROOT / "solutions" / "08_schedule"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        missing("chromium", "the browser test drives a headless Chromium")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="kata: playwright is not installed")
    with playwright_api.sync_playwright() as playwright:  # Playwright gives it a fresh profile
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_a_person_submits_the_form_and_gets_the_email(
    browser_page: Any, real_redis: RedisInfo, mail_inbox: Maildump, giphy_standin: GiphyStandIn, stack_logs: Path,
    tmp_path: Path,
) -> None:
    env = {**app_environment(real_redis.url, mail_inbox, giphy_standin.api_url), "DATABASE_URL": f"sqlite:///{tmp_path / 'workit.sqlite3'}"}
    shots = Path(os.environ.get("KATA_SCREENSHOTS") or tmp_path)  # the status page, queued and then sent
    shots.mkdir(parents=True, exist_ok=True)
    migrate_database(FINISHED_APP, env, stack_logs)
    with web_service(FINISHED_APP, env, stack_logs) as web, worker_service(FINISHED_APP, env, stack_logs):
        page = browser_page
        page.goto(web.url + "/")
        assert "Welcome to Working-It" in page.content()
        page.fill('input[name="mailers[email]"]', "ada@example.com")
        page.fill('[name="mailers[thought]"]', "a cat typing very fast")
        page.get_by_role("button", name="Give me the randomness...").click()
        page.wait_for_url("**/mailers/*")
        assert "Queued: your email to ada@example.com" in page.inner_text("body")
        page.screenshot(path=str(shots / "status-queued.png"))
        page.wait_for_function("() => document.body.innerText.includes('Sent! Check your inbox.')", timeout=60000)
        page.screenshot(path=str(shots / "status-sent.png"))
        messages = mail_inbox.wait_for(1, timeout=60)
    assert [m["recipients"]["to"] for m in messages] == [["ada@example.com"]]
    assert STANDIN_GIF in mail_inbox.html(int(messages[0]["id"]))
