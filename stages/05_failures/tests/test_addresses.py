"""Beyond step 05 (issue 12): an internationalised domain reaches its mailbox whatever the
SMTP server speaks. Runs with --solutions only.

The form accepts gob@bücher.de, and gob@xn--bcher-kva.de typed in ASCII, and queues both in
their Unicode form (email-validator's `normalized`). A server that offers SMTPUTF8 takes that;
one that does not, such as maildump, the kata's own inbox, takes only the ASCII (IDNA) form:
smtplib refuses to send otherwise (SMTPNotSupportedError), on every retry.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kata.inbox import SmtpInbox

pytestmark = pytest.mark.reference

GIF = "https://media.giphy.com/media/kataMonster/200.gif"
UNICODE = "gob@bücher.de"  # what the view queues for either spelling
ASCII = "gob@xn--bcher-kva.de"


@pytest.fixture
def ascii_only_inbox(app) -> Iterator[SmtpInbox]:
    """A second SMTP server, without SMTPUTF8, and the app sending to it."""
    server = SmtpInbox(smtputf8=False).start()
    app.config["MAIL_PORT"] = server.port
    yield server
    server.stop()


def describe(job) -> str:
    return f"ended {job.state}" + (f" with {type(job.error).__name__}: {job.error}" if job.error else "")


def test_an_idn_address_goes_out_in_ascii_to_a_server_without_smtputf8(run_job, giphy, ascii_only_inbox):
    giphy.search_finds(GIF)

    job = run_job(UNICODE, "Come on!")

    delivered = ascii_only_inbox.deliveries
    assert job.state == "SUCCESS" and len(delivered) == 1, (
        f"the job for {UNICODE!r}, sent to an SMTP server without SMTPUTF8, {describe(job)} "
        f"after {len(job.retries)} retries and delivered {len(delivered)} email(s); expected "
        f"one, to {ASCII!r}. When the server does not offer SMTPUTF8 (smtp.has_extn), send "
        "to the address's ASCII form (email-validator's ascii_email), in the envelope and in To:."
    )
    assert (delivered[0].rcpt_tos, delivered[0].message["To"]) == ((ASCII,), ASCII)


def test_an_idn_address_goes_out_as_it_is_to_a_server_with_smtputf8(run_job, giphy, inbox):
    giphy.search_finds(GIF)

    job = run_job(UNICODE, "Come on!")

    delivered = inbox.deliveries
    assert job.state == "SUCCESS" and len(delivered) == 1, (
        f"the job for {UNICODE!r}, sent to an SMTP server with SMTPUTF8, {describe(job)} and "
        f"delivered {len(delivered)} email(s); expected one."
    )
    assert (delivered[0].rcpt_tos, delivered[0].message["To"]) == ((UNICODE,), UNICODE)


def test_an_ascii_address_is_sent_unchanged_to_a_server_without_smtputf8(run_job, giphy, ascii_only_inbox):
    giphy.search_finds(GIF)

    job = run_job("gob@example.com", "Come on!")

    delivered = ascii_only_inbox.deliveries
    assert job.state == "SUCCESS" and [d.rcpt_tos for d in delivered] == [("gob@example.com",)], describe(job)


@pytest.mark.integration
def test_over_the_real_stack_an_idn_address_reaches_maildump(web, celery_worker_process, mail_inbox):
    typed = ASCII  # typed in ASCII, queued in Unicode (see the module's docstring), sent in ASCII
    import re

    import requests

    session = requests.Session()
    page = session.get(f"{web}/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    fields = {"mailers[email]": typed, "mailers[thought]": "Come on!"}
    if token:
        fields["csrf_token"] = token.group(1)
    answer = session.post(f"{web}/mailers", data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), f"POST /mailers answered {answer.status_code}\n{answer.text[:500]}"

    messages = mail_inbox.wait_for(1, timeout=10)

    assert [m["recipients"]["to"] for m in messages] == [[ASCII]], (
        f"the form with {typed!r} went through `flask run`, a `celery worker` and maildump (no "
        f"SMTPUTF8), and maildump holds {messages!r}; expected one email to {ASCII!r}. The "
        f"worker's log:\n{celery_worker_process.output()[-1500:]}"
    )
