"""When the request goes wrong: odd bodies, a huge form, HTML in the thought, Redis away.

Whatever arrives, POST /mailers answers with the form and a message, never a 500 and never a
traceback, and it queues nothing it should not. When Redis is down, the page says so within
a second, and says only what it knows: a timeout does not tell whether the job got there.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest

from kata.broker import task_failures, wait_for_email_or_failure
from kata.inbox import image_sources
from kata.page import read_page

EMAIL = "maeby@example.com"
THOUGHT = "marry me"
GIF = "https://media.giphy.com/media/kataMarryMe/200.gif"
FORM = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT}
URLENCODED = "application/x-www-form-urlencoded"

# The messages of workit/validation.py for problems with the request itself.
NOT_UTF8 = "We could not read that form: it was not sent as UTF-8 text."
FORM_TOO_BIG = "That form is far too big."
QUEUE_UNAVAILABLE = "Sorry, our mail queue did not answer in time, so we cannot tell whether your email is on its way."
MISSING_FIELDS = "Please give us both an email address and a thought."
FAST_FAIL = {"socket_connect_timeout": 0.05, "socket_timeout": 0.05}


def shown(response) -> str:
    return read_page(response.text).shown


def queued(broker) -> list[tuple[str, list, dict]]:
    return [(m.task, m.args, m.kwargs) for m in broker.queued()]


def assert_form_again(response, what: str, status: int, message: str) -> None:
    assert response.status_code == status, (
        f"POST /mailers with {what} answered {response.status_code}; expected {status}, with "
        "the form shown again and a message that says what happened."
    )
    assert message in shown(response), (
        f"POST /mailers with {what} answered {status} but the page does not say {message!r} "
        "(from workit/validation.py)."
    )
    assert "mailers[email]" in read_page(response.text).values, (
        f"POST /mailers with {what} should show the form again, so the user can send it again."
    )
    assert "Traceback" not in response.text, f"the page for {what} shows a traceback to the user."


def assert_nothing_done(broker, inbox, giphy, what: str) -> None:
    jobs, searches, sent = queued(broker), len(giphy.calls), len(inbox.deliveries)
    assert (jobs, searches, sent) == ([], 0, 0), (
        f"POST /mailers with {what} queued {jobs!r}, asked Giphy {searches} time(s) and sent "
        f"{sent} email(s); expected nothing at all."
    )


@pytest.mark.reference
@pytest.mark.parametrize(
    ("body", "what"),
    [
        pytest.param(
            b"mailers%5Bemail%5D=maeby%40example.com&mailers%5Bthought%5D=caf%E9",
            "a thought whose %E9 is Latin-1, not UTF-8",
            id="percent-escape",
        ),
        pytest.param(
            b"mailers%5Bemail%5D=maeby%40example.com&mailers%5Bthought%5D=caf\xe9",
            "a raw \\xe9 byte in the thought (Latin-1, not UTF-8)",
            id="raw-byte",
        ),
    ],
)
def test_a_form_that_is_not_utf8_is_refused(submit, giphy, inbox, broker, body, what):
    response = submit(body, content_type=URLENCODED)

    if response.status_code == 400 and MISSING_FIELDS in shown(response):
        raise AssertionError(
            f"POST /mailers with {what} answered {MISSING_FIELDS!r}, although both fields were "
            "filled in: Werkzeug reads a body that is not UTF-8 as an empty form. Check the "
            "raw bytes first (validation.is_utf8_form), in a hook that runs before each request, "
            "ahead of the CSRF check, and keep the body for the form that is parsed from it "
            "afterwards; answer index.html with NOT_UTF8, 400 (Flask's API: Blueprint "
            "Objects, and Incoming Request Data, https://flask.palletsprojects.com/en/stable/api/)."
        )
    assert_form_again(response, what, 400, NOT_UTF8)
    assert_nothing_done(broker, inbox, giphy, what)


@pytest.mark.given
def test_a_json_body_gets_the_form_back(submit, giphy, inbox, broker):
    response = submit(None, json=FORM)

    assert_form_again(response, "a JSON body instead of a form", 400, MISSING_FIELDS)
    assert_nothing_done(broker, inbox, giphy, "a JSON body")


@pytest.mark.reference
def test_a_huge_form_is_refused_before_it_is_read(submit, giphy, inbox, broker):
    thought = "x" * 1_000_000

    response = submit({"mailers[email]": EMAIL, "mailers[thought]": thought})

    what = "a thought of a million characters"
    assert response.status_code == 413, (
        f"POST /mailers with {what} answered {response.status_code}; expected 413 (Content "
        "Too Large) before anything reads it: set MAX_CONTENT_LENGTH (16 KiB is plenty for two "
        "short fields) and answer Werkzeug's RequestEntityTooLarge with the form and the message "
        "FORM_TOO_BIG, in an error handler (https://flask.palletsprojects.com/en/stable/errorhandling/)."
    )
    assert_form_again(response, what, 413, FORM_TOO_BIG)
    assert len(response.data) < 20_000, (
        f"the answer to {what} is {len(response.data)} bytes long: do not send the huge value "
        "back in the form."
    )
    assert_nothing_done(broker, inbox, giphy, what)


# Bodies the battery of issue 12 found getting through: a multipart form with bytes that are not
# UTF-8, and a chunked body (no Content-Length) over MAX_CONTENT_LENGTH.

BOUNDARY = "kataBoundary7MA4YWxkTrZu0gW"


def multipart(fields: dict[str, bytes]) -> bytes:
    parts = [
        b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
        % (BOUNDARY.encode(), name.encode(), value)
        for name, value in fields.items()
    ]
    return b"".join(parts) + b"--%s--\r\n" % BOUNDARY.encode()


@pytest.mark.reference
def test_a_multipart_form_that_is_not_utf8_is_refused(submit, giphy, inbox, broker):
    body = multipart({"mailers[email]": EMAIL.encode(), "mailers[thought]": b"caf\xe9 au lait \xff"})

    response = submit(body, content_type=f"multipart/form-data; boundary={BOUNDARY}")

    what = "a multipart form whose thought is Latin-1 (caf\\xe9 au lait \\xff), not UTF-8"
    assert response.status_code == 400, (
        f"POST /mailers with {what} answered {response.status_code}; expected 400 with "
        "NOT_UTF8. Werkzeug decodes multipart fields with errors='replace', so the job would "
        "carry U+FFFD characters instead of what the user typed: check the bytes of a "
        "multipart body too, not only of an urlencoded one."
    )
    assert_form_again(response, what, 400, NOT_UTF8)
    assert_nothing_done(broker, inbox, giphy, what)


@pytest.mark.reference
def test_a_multipart_form_in_utf8_is_queued(submit, giphy, inbox, broker):
    thought = "café au lait ☕"
    body = multipart({"mailers[email]": EMAIL.encode(), "mailers[thought]": thought.encode()})

    response = submit(body, content_type=f"multipart/form-data; boundary={BOUNDARY}")

    assert response.status_code in (302, 303), (
        f"POST /mailers with a multipart form in UTF-8 answered {response.status_code}; "
        "expected the redirect: only bytes that are not UTF-8 are refused."
    )
    assert [m.args for m in broker.queued()] == [[EMAIL, thought]]


def chunked(client, body: bytes):
    """POST /mailers as a server hands over a chunked request: no Content-Length, and the
    stream marked as ending by itself (wsgi.input_terminated, as gunicorn and `flask run` do)."""
    import io

    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    builder = EnvironBuilder(path="/mailers", method="POST", input_stream=io.BytesIO(body), content_type=URLENCODED)
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]  # the test client counts the bytes; a chunked request has none
    environ["wsgi.input_terminated"] = True
    response = client.open(Request(environ))
    response.close()
    return response


@pytest.mark.reference
@pytest.mark.parametrize("size", [16 * 1024 + 80, 200_000], ids=["cut-in-the-thought", "200KB"])
def test_a_chunked_body_over_the_limit_is_refused_not_cut(client, giphy, inbox, broker, size):
    # The thought comes last: cut at 16 KiB, the first body still has both fields, the thought
    # 80 characters short, and used to be queued like that.
    fields, thought = b"&mailers%5Bemail%5D=maeby%40example.com&mailers%5Bthought%5D=", b"y" * 180
    body = b"pad=" + b"x" * (size - 4 - len(fields) - len(thought)) + fields + thought

    response = chunked(client, body)

    what = f"a chunked body (no Content-Length) of {len(body)} bytes"
    assert response.status_code == 413, (
        f"POST /mailers with {what} answered {response.status_code}; expected 413 as with a "
        "Content-Length. Werkzeug reads a chunked body only up to MAX_CONTENT_LENGTH and "
        f"silently drops the rest (queued: {[m.args for m in broker.queued()]!r}): refuse a "
        "body that reaches the limit, never use a cut one."
    )
    assert_form_again(response, what, 413, FORM_TOO_BIG)
    assert_nothing_done(broker, inbox, giphy, what)


@pytest.mark.reference
def test_a_short_chunked_body_is_queued(client, giphy, inbox, broker):
    body = b"mailers%5Bemail%5D=maeby%40example.com&mailers%5Bthought%5D=marry+me"

    response = chunked(client, body)

    assert response.status_code in (302, 303), (
        f"POST /mailers with a short chunked body answered {response.status_code}; expected "
        "the redirect: only a body over the limit is refused."
    )
    assert [m.args for m in broker.queued()] == [[EMAIL, THOUGHT]]


def test_html_in_the_thought_is_only_text_in_the_email(
    app, submit, celery_of, giphy, inbox, broker, run_worker
):
    thought = '<b>bold</b> <img src="https://evil.example/x.gif">'
    giphy.search_finds(GIF)

    response = submit({"mailers[email]": EMAIL, "mailers[thought]": thought})
    assert response.status_code in (302, 303), (
        f"POST /mailers with HTML in the thought answered {response.status_code}; expected the "
        "redirect to /sent: any text is a fine thought, it only has to be shown as text."
    )
    with task_failures() as failures, run_worker(celery_of(app)):
        wait_for_email_or_failure(inbox, failures, timeout=5)

    assert not failures and len(inbox.messages) == 1, (
        f"the worker delivered {len(inbox.messages)} email(s) for a thought with HTML in it "
        f"(task errors: {failures!r}); expected exactly one."
    )
    html = inbox.messages[0].get_body(("html",)).get_content()
    assert "<b>bold</b>" not in html and image_sources(html) == [GIF], (
        f"the email's HTML shows the thought {thought!r} as markup (images: "
        f"{image_sources(html)!r}): whoever fills in the form could put anything in an email "
        "we send. Render it with Jinja's {{ thought }} in templates/email/randomness.html, "
        "never |safe or Markup."
    )
    assert "&lt;b&gt;bold&lt;/b&gt;" in html, "the email should still show the thought, escaped."


@contextmanager
def app_with(app_config, **changes):
    """A Flask app like the test's `app`, with some settings changed."""
    from workit import create_app

    app = create_app({**app_config, **changes})
    try:
        yield app
    finally:
        celery = app.extensions.get("celery")
        if celery is not None:
            celery.close()


def post_within(client, seconds: float, **options):
    """POST /mailers in a thread; the response and how long it took, or None if it hangs."""
    outcome: dict = {}

    def post() -> None:
        started = time.perf_counter()
        try:
            outcome["response"] = client.post("/mailers", **options)
        except BaseException as error:  # reported below, in the test's own thread
            outcome["error"] = error
        outcome["took"] = time.perf_counter() - started

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    thread.join(seconds)
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, NotImplementedError):
            raise error
        raise AssertionError(
            f"POST /mailers while Redis is down raised {type(error).__name__}: {error}. Catch "
            "kombu.exceptions.OperationalError around .delay(...) and answer a 503 page: "
            "index.html with QUEUE_UNAVAILABLE and the user's values."
        ) from error
    return outcome.get("response"), outcome.get("took")


@pytest.mark.reference
@pytest.mark.parametrize(
    ("kind", "what"),
    [
        pytest.param("refused", "nothing listens on Redis's port", id="refused"),
        pytest.param("silent", "Redis accepts the connection and never answers", id="silent"),
        pytest.param("unreachable", "Redis's host never completes the TCP handshake", id="unreachable"),
    ],
)
def test_when_redis_is_down_the_page_says_so(app_config, redis_outage, giphy, inbox, kind, what):
    # The app's own broker timeouts are checked below, as settings; here shorter ones keep the
    # test fast. A hang still shows: no answer within 5 s fails.
    celery = {**app_config["CELERY"], "broker_transport_options": {**FAST_FAIL, "polling_interval": 0.02}}
    with app_with(app_config, REDIS_URL=getattr(redis_outage, kind), CELERY=celery) as app:
        client = app.test_client()
        client.get("/")  # the first request loads the templates: not what is timed here
        response, took = post_within(client, 5.0, data=FORM)

    assert response is not None, (
        f"POST /mailers did not answer within 5 s when {what}: .delay() waits for Redis, and "
        "so does the user. Give the broker short timeouts (broker_transport_options "
        "socket_connect_timeout and socket_timeout, a fraction of a second) and at most one "
        "retry of the publish (task_publish_retry_policy), in celery_init_app."
    )
    assert response.status_code == 503, (
        f"POST /mailers answered {response.status_code} when {what}; expected 503 (Service "
        "Unavailable): catch kombu.exceptions.OperationalError around .delay(...)."
    )
    assert_form_again(response, f"Redis down ({what})", 503, QUEUE_UNAVAILABLE)
    fields = read_page(response.text).values
    assert (fields.get("mailers[email]"), fields.get("mailers[thought]")) == (EMAIL, THOUGHT), (
        "the 503 page should keep what the user typed, so that trying again is one click."
    )
    assert inbox.deliveries == [] and giphy.calls == [], (
        "with Redis down the request sent an email or asked Giphy itself: it should only "
        "have tried to queue the job."
    )


@pytest.mark.reference
def test_queueing_gives_up_within_a_second_when_redis_is_away(app_config):
    settings = {key: value for key, value in app_config.items() if key != "CELERY"}
    with app_with(settings) as app:
        conf = app.extensions["celery"].conf
    options, retry = conf.broker_transport_options or {}, conf.task_publish_retry_policy or {}
    timeouts = [options.get("socket_connect_timeout"), options.get("socket_timeout")]
    tries = 1 + (retry.get("max_retries") or 0) if conf.task_publish_retry else 1
    assert all(t is not None and 0 < t <= 0.5 for t in timeouts) and tries <= 2, (
        f"with Redis away, .delay() may wait {tries} x {timeouts} s (connect, read): the user "
        "waits as long. Expected socket_connect_timeout and socket_timeout of at most 0.5 s in "
        "broker_transport_options, and at most one retry of the publish "
        "(task_publish_retry_policy max_retries <= 1), set in celery_init_app."
    )


@pytest.mark.reference
def test_when_redis_comes_back_the_next_form_is_queued(submit, fake_redis, giphy, inbox, broker):
    fake_redis.go_down()
    down = submit(FORM)
    fake_redis.come_back()
    back = submit(FORM)

    assert down.status_code == 503, (
        f"POST /mailers answered {down.status_code} while Redis was down; expected 503."
    )
    assert back.status_code in (302, 303) and len(queued(broker)) == 1, (
        f"once Redis was back, POST /mailers answered {back.status_code} and queued "
        f"{queued(broker)!r}; expected the redirect and one job: a failed publish must not "
        "leave the app unable to queue."
    )


@pytest.mark.given
def test_a_get_request_never_queues_an_email(client, giphy, inbox, broker):
    query = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT}
    response = client.get("/mailers", query_string=query)
    jobs = queued(broker)
    assert response.status_code == 405 and jobs == [], (
        f"GET /mailers?... answered {response.status_code} and queued {jobs!r}: a GET must never "
        "send an email. Any link, image tag or prefetching browser makes GET requests, so anyone "
        "could make the app mail anybody. Only POST /mailers queues (405 for a GET)."
    )
    assert_nothing_done(broker, inbox, giphy, "a GET instead of a POST")


def test_when_queueing_fails_the_page_never_says_the_email_was_sent(app_config, redis_outage, giphy, inbox):
    celery = {**app_config["CELERY"], "broker_transport_options": {**FAST_FAIL, "polling_interval": 0.02}}
    with app_with(app_config, REDIS_URL=redis_outage.refused, CELERY=celery) as app:
        client = app.test_client()
        try:
            response = client.post("/mailers", data=FORM, follow_redirects=True)
        except NotImplementedError:
            raise
        except Exception:
            return  # the error reached Flask: a 500 for the user, and nothing claims it worked
    text = response.get_data(as_text=True)
    assert response.request.path != "/sent" and "Email sent" not in text, (
        f"Redis refused the job, yet POST /mailers answered {response.status_code} and the page "
        "says the email was sent: an `except` around .delay() that carries on as if it had "
        "worked loses the email and tells the user the opposite. Let the error through (the "
        "user gets a 500), or catch only the broker's error and show the form again."
    )
