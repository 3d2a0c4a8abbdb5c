"""The real thing (`pytest stages/01_sync --integration`): flask run, maildump, a slow Giphy.

Your app runs as its own process and talks to a Giphy stand-in over HTTP and to maildump
over SMTP. The request has to wait for both: that is the pain the next stages remove.
"""

from __future__ import annotations

import time

import pytest
import requests

from kata.stack import STANDIN_GIF, GiphyStandIn, Maildump

pytestmark = pytest.mark.integration

GIPHY_DELAY = 0.5
FORM = {"mailers[email]": "ada@example.com", "mailers[thought]": "a cat typing very fast"}


def test_the_request_waits_for_giphy_then_the_email_arrives(
    web: str, mail_inbox: Maildump, giphy_standin: GiphyStandIn
) -> None:
    giphy_standin.delay = GIPHY_DELAY
    started = time.perf_counter()
    answer = requests.post(f"{web}/mailers", data=FORM, allow_redirects=False, timeout=30)
    took = time.perf_counter() - started
    assert answer.status_code in (302, 303) and answer.headers["Location"].endswith("/sent"), (
        f"POST /mailers over HTTP answered {answer.status_code}; expected a redirect to /sent. "
        f"Run `pytest stages/01_sync` first: the unit tests say what is missing.\n{answer.text[:500]}"
    )
    assert giphy_standin.requests_seen, "the request redirected without asking Giphy for a GIF"
    assert took >= GIPHY_DELAY, (
        f"POST /mailers took {took:.2f} s, less than the {GIPHY_DELAY} s Giphy needed: in step 01 "
        "the request itself fetches the GIF and sends the email before it answers"
    )
    messages = mail_inbox.wait_for(1, timeout=5)
    assert len(messages) == 1, f"maildump received {len(messages)} emails; expected 1 to ada@example.com"
    assert messages[0]["recipients"]["to"] == ["ada@example.com"]
    html = mail_inbox.html(int(messages[0]["id"]))
    assert STANDIN_GIF in html, f"the email's HTML part does not show the GIF {STANDIN_GIF}:\n{html[:500]}"
