"""The real thing (`pytest stages/04_enqueue --integration`): flask run, a celery worker
process, redis-server, maildump and a Giphy stand-in, each on a free loopback port.

Giphy is held back while the form is posted: if the request still waited for the GIF, it
could not answer. Then Giphy is let go and the worker process delivers the email.
"""

from __future__ import annotations

import pytest
import requests

from kata.stack import STANDIN_GIF, GiphyStandIn, Maildump, Service

pytestmark = pytest.mark.integration

FORM = {"mailers[email]": "ada@example.com", "mailers[thought]": "a cat typing very fast"}


def test_the_request_answers_at_once_and_the_worker_delivers(
    web: str, celery_worker_process: Service, mail_inbox: Maildump, giphy_standin: GiphyStandIn
) -> None:
    giphy_standin.hold()
    try:
        answer = requests.post(f"{web}/mailers", data=FORM, allow_redirects=False, timeout=10)
    except requests.Timeout:
        raise AssertionError(
            "POST /mailers did not answer within 10 s while Giphy was held back: the request "
            "still waits for the GIF: queue the job with the task's .delay(...) instead."
        ) from None
    assert answer.status_code in (302, 303) and answer.headers["Location"].endswith("/sent"), (
        f"POST /mailers over HTTP answered {answer.status_code}; expected a redirect to /sent. "
        f"Run `pytest stages/04_enqueue` first: the unit tests say what is missing.\n{answer.text[:500]}"
    )
    assert mail_inbox.messages() == [], "an email arrived before Giphy answered: who sent it without a GIF?"
    giphy_standin.release()
    messages = mail_inbox.wait_for(1, timeout=15)
    assert len(messages) == 1, (
        f"maildump received {len(messages)} emails within 15 s of Giphy answering; expected 1 from "
        f"the worker process. Its log:\n{celery_worker_process.output()[-1500:]}"
    )
    assert messages[0]["recipients"]["to"] == ["ada@example.com"]
    assert STANDIN_GIF in mail_inbox.html(int(messages[0]["id"]))
