"""The request side over real HTTP (`--integration`): `flask run` with CSRF protection on, as
in production, and `flask run` with its Redis gone.

Both check the reference app's hardening (CSRFProtect, the 503 page), not the step: they are
marked `reference` and run with `--solutions` only, like those of test_security.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import redis
import requests

from kata.stack import Maildump, free_port, web_service

pytestmark = [pytest.mark.integration, pytest.mark.reference]

FORM = {"mailers[email]": "ann@example.com", "mailers[thought]": "her?"}
QUEUE_UNAVAILABLE = "Sorry, our mail queue did not answer in time, so we cannot tell whether your email is on its way."


def form_page(session: requests.Session, base: str) -> str:
    """GET / like a browser: the page, and the session cookie in `session`. The form's token."""
    page = session.get(f"{base}/", timeout=10)
    page.raise_for_status()
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert found, (
        "GET / over HTTP shows a form with no csrf_token field: without it no honest form can "
        "pass a CSRF check. The form needs its hidden token field, and the app Flask-WTF's "
        "CSRF protection (https://flask-wtf.readthedocs.io/en/1.2.x/csrf/)."
    )
    return found.group(1)


def test_over_http_the_form_needs_its_csrf_token(
    code_dir: Path, stack_env: dict[str, str], stack_logs: Path, mail_inbox: Maildump
) -> None:
    env = {**stack_env, "WTF_CSRF_ENABLED": "1"}
    queue = redis.Redis.from_url(env["REDIS_URL"])
    waiting = queue.llen("celery")
    with web_service(code_dir, env, stack_logs, name="web-csrf") as web:
        forged = requests.post(f"{web.url}/mailers", data=FORM, allow_redirects=False, timeout=10)
        session = requests.Session()
        token = form_page(session, web.url)
        real = session.post(f"{web.url}/mailers", data={**FORM, "csrf_token": token}, allow_redirects=False, timeout=10)
    for _ in range(queue.llen("celery") - waiting):  # no worker here: take back what was queued
        queue.lpop("celery")

    assert forged.status_code == 400, (
        f"`flask run` answered {forged.status_code} to a POST /mailers without the CSRF token "
        "(what another site's page would send); expected 400: the app needs Flask-WTF's CSRF "
        "protection (https://flask-wtf.readthedocs.io/en/1.2.x/csrf/)."
    )
    assert real.status_code in (302, 303), (
        f"`flask run` answered {real.status_code} to the form posted with its token and "
        f"session cookie; expected the redirect to /sent.\n{real.text[:500]}"
    )


def test_over_http_redis_down_gives_a_503_page_within_a_second(
    code_dir: Path, stack_env: dict[str, str], stack_logs: Path, mail_inbox: Maildump
) -> None:
    env = {**stack_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}  # CSRF off (conftest)
    with web_service(code_dir, env, stack_logs, name="web-no-redis") as web:
        requests.get(f"{web.url}/", timeout=10).raise_for_status()  # templates loaded: not timed
        started = time.perf_counter()
        try:
            answer = requests.post(f"{web.url}/mailers", data=FORM, allow_redirects=False, timeout=10)
        except requests.Timeout:
            raise AssertionError("POST /mailers did not answer within 10 s with Redis down.") from None
        took = time.perf_counter() - started
        log = web.output()

    assert answer.status_code == 503 and QUEUE_UNAVAILABLE in answer.text, (
        f"with Redis down, POST /mailers over HTTP answered {answer.status_code}; expected 503 "
        f"and the message {QUEUE_UNAVAILABLE!r}.\n{answer.text[:500]}"
    )
    assert took < 1.0, f"the 503 page took {took:.2f} s; expected less than a second."
    assert "Traceback" not in answer.text and "Traceback" not in log, (
        f"Redis down is expected, not a crash: log one line, show no traceback. The log:\n{log[-1500:]}"
    )
    assert mail_inbox.messages() == [], "an email was sent although nothing could be queued."
