"""The form is only accepted from our own page (CSRF), the app needs a real SECRET_KEY outside
development, and it never shows a traceback to the world.

The other tests turn CSRF protection off (`WTF_CSRF_ENABLED: False` in their config) to post
the form directly; these turn it on.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

EMAIL = "lindsay@example.com"
THOUGHT = "I'm an activist"
FORM = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT}
NAME = "workit.tasks.send_randomness_email"
FORM_EXPIRED = "This form has expired or did not come from our page."

# Beyond step 04: how the reference app is hardened. Runs with --solutions only.
pytestmark = pytest.mark.reference


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


def queued(broker) -> list[tuple[str, list, dict]]:
    return [(m.task, m.args, m.kwargs) for m in broker.queued()]


def post(client, data):
    try:
        return client.post("/mailers", data=data)
    except (NotImplementedError, AssertionError):
        raise
    except Exception as error:
        raise AssertionError(f"POST /mailers raised {type(error).__name__}: {error}") from error


def csrf_token(page: str) -> str | None:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    return found.group(1) if found else None


def test_a_form_without_the_csrf_token_is_refused(app_config, giphy, inbox, broker):
    with app_with(app_config, WTF_CSRF_ENABLED=True) as app:
        response = post(app.test_client(), FORM)

    jobs = queued(broker)
    assert response.status_code == 400 and jobs == [], (
        f"with CSRF protection on, POST /mailers without a csrf_token answered "
        f"{response.status_code} and queued {jobs!r}; expected 400 and nothing queued. Any "
        "web page could otherwise make its visitors' browsers post our form (cross-site "
        "request forgery). Flask-WTF's CSRF protection refuses such a post: "
        "https://flask-wtf.readthedocs.io/en/1.2.x/csrf/"
    )
    assert FORM_EXPIRED in response.text and 'name="mailers[email]"' in response.text, (
        "the refusal should show the form again with the message FORM_EXPIRED, not a bare 400 "
        "page: a person whose page was open too long only has to send it again. The CSRF check "
        "raises an error of its own, which a handler in workit/views.py can answer "
        "(https://flask-wtf.readthedocs.io/en/1.2.x/csrf/#customize-the-error-response)."
    )


def test_the_form_from_our_page_carries_a_token_that_works(app_config, giphy, inbox, broker):
    with app_with(app_config, WTF_CSRF_ENABLED=True) as app:
        client = app.test_client()  # keeps the session cookie, like a browser
        token = csrf_token(client.get("/").text)
        assert token, (
            "GET / shows a form with no csrf_token field: add "
            '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"> inside the '
            "<form> of templates/index.html."
        )
        response = post(client, {**FORM, "csrf_token": token})

    jobs = queued(broker)
    assert response.status_code in (302, 303) and jobs == [(NAME, [EMAIL, THOUGHT], {})], (
        f"POST /mailers with the token from GET / answered {response.status_code} and queued "
        f"{jobs!r}; expected the redirect to /sent and one job."
    )


def test_csrf_protection_is_on_unless_turned_off(monkeypatch):
    from workit.config import from_environment

    monkeypatch.delenv("WTF_CSRF_ENABLED", raising=False)
    default = from_environment().get("WTF_CSRF_ENABLED")
    monkeypatch.setenv("WTF_CSRF_ENABLED", "0")
    turned_off = from_environment().get("WTF_CSRF_ENABLED")

    assert (default, turned_off) == (True, False), (
        f"from_environment() gives WTF_CSRF_ENABLED={default!r} by default and {turned_off!r} "
        "with WTF_CSRF_ENABLED=0 in the environment; expected True, then False: protection is "
        "on unless someone turns it off on purpose."
    )


@pytest.fixture
def no_secret_key(monkeypatch):
    for name in ("SECRET_KEY", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def test_without_secret_key_the_app_refuses_to_start(app_config, no_secret_key):
    config = {key: value for key, value in app_config.items() if key != "SECRET_KEY"}
    config["TESTING"] = False

    try:
        with app_with(config) as app:
            key = app.config.get("SECRET_KEY")
    except Exception as error:
        assert "SECRET_KEY" in str(error), (
            f"create_app() without SECRET_KEY raised {type(error).__name__}: {error}; expected "
            "a message that names SECRET_KEY and says how to set it."
        )
        return
    raise AssertionError(
        f"create_app() without SECRET_KEY, outside debug and testing, started with the key "
        f"{key!r}. It signs the session cookie and the CSRF token: a published key lets anyone "
        "forge them, and a random one breaks as soon as there are two processes. Refuse to "
        "start: fallback_secret_key raises an error that says to set SECRET_KEY."
    )


@pytest.mark.given
def test_in_testing_or_debug_mode_the_development_key_is_fine(app_config, no_secret_key):
    config = {key: value for key, value in app_config.items() if key != "SECRET_KEY"}

    with app_with(config, TESTING=True) as app:
        testing_key = app.config["SECRET_KEY"]
    with app_with(config, TESTING=False, DEBUG=True) as app:
        debug_key = app.config["SECRET_KEY"]

    assert testing_key and debug_key, "in testing or debug mode the app starts with a development key."


@pytest.mark.given
def test_debug_is_off_and_errors_show_no_traceback(app_config, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with app_with(app_config, TESTING=False) as app:
        app.add_url_rule("/kata-boom", "kata_boom", lambda: 1 / 0)
        response = app.test_client().get("/kata-boom")
        debug = app.debug

    assert debug is False, "the app runs in debug mode by default: never in production."
    assert response.status_code == 500 and "Traceback" not in response.text, (
        "an unexpected error shows a traceback: keep debug mode off (no DEBUG = True)."
    )


# Issue 12: what /health tells the world when Redis is down.


def test_health_tells_the_world_only_that_redis_is_down(app_config, fake_redis, caplog):
    import logging

    url = "redis://:hunter2@redis.internal.example:6390/0"
    fake_redis.go_down()
    with app_with(app_config, REDIS_URL=url) as app, caplog.at_level(logging.WARNING):
        response = app.test_client().get("/health")
        with app_with(app_config, REDIS_URL=url, DEBUG=True) as debug_app:
            debugging = debug_app.test_client().get("/health")

    body = response.get_data(as_text=True)
    told = [word for word in ("redis.internal.example", "6390", "redis-server", "REDIS_URL", "hunter2", "Error") if word in body]
    assert response.status_code == 503 and response.get_json().get("redis") == "unavailable" and not told, (
        f"with Redis down, GET /health answered {response.status_code} {body!r}: it tells anyone "
        f"who asks {told} (where Redis is, what failed, how it is set up). Answer 503 with "
        '{"redis": "unavailable"} and keep the details in the log (and in debug mode).'
    )
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "redis.internal.example:6390" in logged and "hunter2" not in logged, (
        f"the details belong in the app's log, the password blotted out; logged: {logged!r}"
    )
    assert "redis.internal.example" in debugging.get_data(as_text=True), (
        "in debug mode /health may say where it looked: the developer is the one asking."
    )


# Issue 12: the session cookie and the Host header.


def session_cookie(response) -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert cookies, f"GET / set no session cookie (it holds the CSRF token): {response.headers!r}"
    return cookies[0]


def test_the_session_cookie_is_samesite_lax_and_secure_when_configured(app_config, monkeypatch):
    from workit.config import from_environment

    with app_with(app_config) as app:
        plain = session_cookie(app.test_client().get("/"))
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    with app_with({**from_environment(), **app_config}) as app:
        behind_https = session_cookie(app.test_client().get("/"))

    assert "SameSite=Lax" in plain and "Secure" not in plain, (
        f"the session cookie is {plain!r}; expected SameSite=Lax (SESSION_COOKIE_SAMESITE), so "
        "that another site's form does not carry it, and no Secure flag over plain HTTP."
    )
    assert "Secure" in behind_https, (
        f"with SESSION_COOKIE_SECURE=1 in the environment the cookie is {behind_https!r}; "
        "expected Secure: behind HTTPS it must never travel in clear."
    )


def test_with_trusted_hosts_set_another_host_header_is_refused(app_config, monkeypatch):
    from workit.config import from_environment

    monkeypatch.setenv("TRUSTED_HOSTS", "workit.example, localhost")
    with app_with({**from_environment(), **app_config}) as app:
        client = app.test_client()
        ours = client.get("/", headers={"Host": "workit.example"})
        local = client.get("/", headers={"Host": "localhost:5000"})
        forged = client.get("/", headers={"Host": "evil.example"})
        redirect = client.get("/static//style.css", headers={"Host": "evil.example"})

    assert (ours.status_code, local.status_code) == (200, 200), (ours.status_code, local.status_code)
    assert forged.status_code == 400, (
        f"with TRUSTED_HOSTS=workit.example,localhost a request for Host: evil.example answered "
        f"{forged.status_code}; expected 400."
    )
    assert "evil.example" not in redirect.headers.get("Location", ""), (
        f"GET /static//style.css with Host: evil.example redirected to "
        f"{redirect.headers.get('Location')!r}: Werkzeug builds the Location from the Host "
        "header. Read TRUSTED_HOSTS from the environment (a comma-separated list)."
    )


# Issue 12: secrets. No published key outside the tests, and no short one.


def test_in_debug_mode_without_a_key_the_app_makes_a_local_one_and_keeps_it(app_config, no_secret_key, tmp_path):
    from workit.config import DEV_SECRET_KEY

    config = {key: value for key, value in app_config.items() if key != "SECRET_KEY"}
    keep = tmp_path / "instance" / "secret_key"
    with app_with(config, TESTING=False, DEBUG=True, SECRET_KEY_FILE=str(keep)) as app:
        first = app.config["SECRET_KEY"]
    with app_with(config, TESTING=False, DEBUG=True, SECRET_KEY_FILE=str(keep)) as app:
        again = app.config["SECRET_KEY"]
    elsewhere = tmp_path / "other" / "secret_key"
    with app_with(config, TESTING=False, DEBUG=True, SECRET_KEY_FILE=str(elsewhere)) as app:
        other = app.config["SECRET_KEY"]

    assert first != DEV_SECRET_KEY and len(first) >= 32, (
        f"in debug mode without SECRET_KEY the app signs with {first!r}: a key published in the "
        "repository lets anyone forge its cookies. Make a random one on first start instead "
        "(32 bytes or more from Python's secrets module, https://docs.python.org/3/library/secrets.html) "
        "and keep it in SECRET_KEY_FILE (default: the app's instance "
        "folder), so that it survives restarts and the reloader's second process."
    )
    assert again == first and other != first, (
        "the key made in debug mode should be kept (the same on the next start) and local "
        f"(another folder, another key): got {first[:8]}..., {again[:8]}..., {other[:8]}..."
    )
    assert keep.stat().st_mode & 0o077 == 0, f"{keep} is readable by others: {oct(keep.stat().st_mode)}"


@pytest.mark.parametrize("key", ["x", "dev-only-not-secret", "0123456789abcdef0123456789abcde"])
def test_a_short_secret_key_is_refused_outside_testing(app_config, no_secret_key, key):
    try:
        with app_with(app_config, SECRET_KEY=key, TESTING=False):
            pass
    except Exception as error:
        assert "SECRET_KEY" in str(error) and "32" in str(error), str(error)
    else:
        raise AssertionError(
            f"create_app() started with SECRET_KEY={key!r} ({len(key)} characters): a short key "
            "can be guessed, and then the cookies and CSRF tokens forged. Refuse a key under 32 "
            "characters outside testing, and say how to make one."
        )
    with app_with(app_config, SECRET_KEY=key, TESTING=True) as app:  # the tests' own keys are fine
        assert app.config["SECRET_KEY"] == key
