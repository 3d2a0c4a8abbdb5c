"""GET /health and `flask redis-ping`: say PONG when Redis answers, and say why when it does not."""

from __future__ import annotations

import pytest
import redis

from workit import create_app
from workit.health import RedisUnavailable, check_redis
from workit.redis_client import get_redis

PASSWORD = "kata-secret-password"
CALM_TYPES = ("application/json", "text/plain")


def _get_health(client):
    """GET /health, turning an escaped Redis error into a clear failure."""
    try:
        return client.get("/health")
    except redis.RedisError as error:
        pytest.fail(
            f"GET /health let {type(error).__name__}: {error} escape: a real server answers "
            "that with a 500 and a traceback in the log. Catch redis.RedisError (through "
            "check_redis()) and answer 503 with an explanation."
        )
    except RedisUnavailable as problem:
        pytest.fail(
            f"GET /health let RedisUnavailable({str(problem)!r}) escape the view: a real "
            "server answers that with a 500 and a traceback in the log, not 503. Catch "
            "RedisUnavailable in health() and answer 503 with its message."
        )


def _stop_answering(monkeypatch) -> None:
    """Redis accepts the connection but never answers: redis-py's socket_timeout fires."""

    def silent(self, *args, **options):
        raise redis.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(redis.Redis, "execute_command", silent)


def _redis_down(how: str, fake_redis, monkeypatch) -> None:
    if how == "refused":
        fake_redis.go_down()
    else:
        _stop_answering(monkeypatch)


DOWN = [
    pytest.param("refused", id="nobody-listens"),
    pytest.param("silent", id="nobody-answers"),
]
WHAT = {
    "refused": "Redis is down (redis.ConnectionError)",
    "silent": "Redis never answers (redis.TimeoutError after socket_timeout)",
}


def _check(app) -> object:
    """check_redis() in an app context: its answer, or the exception it raised."""
    with app.app_context():
        try:
            return check_redis()
        except (RedisUnavailable, redis.RedisError) as error:
            return error


def test_check_redis_answers_pong_when_redis_answers(app, fake_redis, redis_url):
    answer = _check(app)

    assert answer == "PONG", (
        f"with Redis up, check_redis() gave {answer!r}; expected the string 'PONG', what "
        "Redis answers to PING (redis-py turns that answer into True: say PONG yourself)."
    )
    assert fake_redis.urls == [redis_url], (
        f"check_redis() made clients for {fake_redis.urls!r}; expected it to ask the app's "
        f"own client, get_redis(), for [{redis_url!r}]."
    )
    with app.app_context():
        get_redis()
    assert fake_redis.urls == [redis_url], (
        f"check_redis() then get_redis() made clients for {fake_redis.urls!r}; expected one, "
        f"for [{redis_url!r}]: check_redis() made a client of its own instead of asking the "
        "app's own client, get_redis(), the one every part of the app shares."
    )


@pytest.mark.parametrize("how", DOWN)
def test_check_redis_raises_redis_unavailable_when_redis_is_down(
    app, fake_redis, monkeypatch, redis_url, how
):
    _redis_down(how, fake_redis, monkeypatch)

    outcome = _check(app)

    assert not isinstance(outcome, redis.RedisError), (
        f"when {WHAT[how]}, check_redis() let {type(outcome).__name__}: {outcome} escape; "
        "expected RedisUnavailable. redis-py's errors all derive from redis.RedisError: "
        "catch that, and raise RedisUnavailable with a sentence for a person instead."
    )
    assert isinstance(outcome, RedisUnavailable), (
        f"when {WHAT[how]}, check_redis() returned {outcome!r}; expected it to raise "
        "RedisUnavailable. Making a client connects to nothing: only a command sent to "
        "Redis (PING) finds out whether it is there."
    )
    message = str(outcome)
    assert redis_url in message and "redis-server" in message, (
        f"when {WHAT[how]}, check_redis() raised RedisUnavailable({message!r}); expected a "
        f"message that names the Redis it tried, {redis_url!r} (the app's REDIS_URL), and "
        "what to do about it: mention `redis-server`, the command that starts Redis."
    )


class _Bug(Exception):
    """Not a Redis error: what a typo or a wrong argument in the code raises."""


def test_check_redis_lets_a_bug_through_and_catches_only_redis_errors(app, fake_redis, monkeypatch):
    def broken(self, *args, **options):
        raise _Bug("a bug in the code, not Redis being down")

    monkeypatch.setattr(redis.Redis, "execute_command", broken)

    outcome = _check_anything(app)

    assert not isinstance(outcome, RedisUnavailable), (
        f"when the code itself fails ({_Bug.__name__}: a bug in the code, not Redis being "
        f"down), check_redis() raised RedisUnavailable({str(outcome)!r}): it catches more "
        "than redis-py's errors (an except Exception, or a bare except), so every bug is "
        "reported as 'Redis is down' and sends whoever reads it to restart a Redis that is "
        "fine. Catch redis.RedisError, the family of all of redis-py's errors, and let the "
        "rest through."
    )
    assert isinstance(outcome, _Bug), (
        f"when the code itself fails with {_Bug.__name__}, check_redis() gave {outcome!r}; "
        "expected that error to come through unchanged: only redis-py's errors "
        "(redis.RedisError) mean Redis is not there."
    )


def _check_anything(app) -> object:
    """check_redis() in an app context: its answer, or any exception it raised but a
    NotImplementedError (an unwritten step fails as itself)."""
    with app.app_context():
        try:
            return check_redis()
        except NotImplementedError:
            raise
        except Exception as error:
            return error


def test_check_redis_keeps_the_redis_error_as_its_cause(app, fake_redis):
    fake_redis.go_down()

    outcome = _check(app)

    if not isinstance(outcome, RedisUnavailable):
        pytest.fail(f"with Redis down, check_redis() gave {outcome!r}; expected RedisUnavailable.")
    cause = outcome.__cause__
    if cause is None and not outcome.__suppress_context__:
        cause = outcome.__context__
    assert isinstance(cause, redis.RedisError), (
        f"with Redis down, check_redis() raised RedisUnavailable({str(outcome)!r}) with "
        f"{'no cause' if cause is None else f'the cause {cause!r}'}; expected the redis-py "
        "error it came from as its cause, so a log shows the whole story: raise it inside "
        "the except, `raise RedisUnavailable(...) from error` (not `from None`)."
    )


def test_check_redis_never_names_the_password(app_config, fake_redis):
    url = f"redis://:{PASSWORD}@kata-redis.invalid:6390/3"
    app = create_app({**app_config, "REDIS_URL": url})
    fake_redis.go_down()

    message = str(_check(app))

    assert PASSWORD not in message, (
        f"with REDIS_URL={url!r} and Redis down, check_redis() said {message!r}, password "
        "included: that message ends up on /health and in logs. Show redacted(url), which "
        "the skeleton gives you, instead of the URL itself."
    )
    assert "kata-redis.invalid:6390" in message, (
        f"check_redis() said {message!r}; it should still name the host and port it tried "
        "(redacted(url) keeps them)."
    )


def test_health_says_pong_when_redis_answers(client, fake_redis, redis_url):
    response = _get_health(client)
    _get_health(client)

    assert response.status_code == 200, (
        f"GET /health with Redis up answered {response.status_code}; expected 200."
    )
    assert "PONG" in response.text, (
        f"GET /health with Redis up answered {response.text!r}; expected Redis's answer, "
        "PONG, for example {\"redis\": \"PONG\"}. redis-py's ping() returns True for PONG."
    )
    assert fake_redis.urls == [redis_url], (
        f"two GET /health made clients for {fake_redis.urls!r}; expected one client, for "
        f"[{redis_url!r}]: ask the app's client, get_redis(), which is made once."
    )
    assert response.is_json, (
        f"GET /health with Redis up answered {response.mimetype} {response.text!r}; expected "
        "a JSON body that holds PONG, such as {\"redis\": \"PONG\"}, which a monitor can "
        "read: return a dict (Flask turns it into JSON), not a string (that becomes HTML)."
    )


@pytest.mark.parametrize("how", DOWN)
def test_health_answers_503_and_says_why_when_redis_is_down(
    client, fake_redis, monkeypatch, redis_url, how
):
    _redis_down(how, fake_redis, monkeypatch)

    response = _get_health(client)

    body = response.text
    assert response.status_code == 503, (
        f"when {WHAT[how]}, GET /health answered {response.status_code} {body!r}; expected "
        "503 Service Unavailable, so a load balancer or a monitor sees at once that the app "
        "cannot work. (200 means the check did not really ask Redis; 500 means it crashed.)"
    )
    assert response.mimetype in CALM_TYPES, (
        f"when {WHAT[how]}, GET /health answered with {response.mimetype}; expected JSON "
        "(return a dict) or plain text, an answer a program and a person can both read."
    )
    assert "Traceback" not in body, (
        f"when {WHAT[how]}, GET /health showed a traceback: {body!r}. Say what is wrong in "
        "one sentence instead."
    )
    assert redis_url in body, (
        f"when {WHAT[how]}, GET /health answered {body!r}; expected it to name the Redis it "
        f"tried, {redis_url!r} (current_app.config['REDIS_URL']), so whoever reads it knows "
        "where to look."
    )
    assert "redis-server" in body, (
        f"when {WHAT[how]}, GET /health answered {body!r}; expected a hint of what to do: "
        "mention `redis-server`, the command that starts Redis."
    )


def test_health_never_shows_the_redis_password(app_config, fake_redis):
    url = f"redis://:{PASSWORD}@kata-redis.invalid:6390/3"
    client = create_app({**app_config, "REDIS_URL": url}).test_client()

    while_up = _get_health(client)

    assert while_up.status_code == 200 and "PONG" in while_up.text, (
        f"with REDIS_URL={url!r} and Redis up, GET /health answered {while_up.status_code} "
        f"{while_up.text!r}; expected 200 with PONG."
    )
    assert PASSWORD not in while_up.text, (
        f"with REDIS_URL={url!r} and Redis up, GET /health answered {while_up.text!r}, "
        "password included: anyone who can reach /health can now read your Redis. Show "
        "redacted(url), if you show the URL at all, in the healthy answer too."
    )
    fake_redis.go_down()

    response = _get_health(client)

    assert PASSWORD not in response.text, (
        f"with REDIS_URL={url!r} and Redis down, GET /health answered {response.text!r}, "
        "password included: anyone who can reach /health can now read your Redis. Show "
        "redacted(url) instead of the URL itself."
    )
    assert "kata-redis.invalid:6390" in response.text, (
        f"GET /health answered {response.text!r}; it should still name the host and port "
        "it tried (redacted(url) keeps them)."
    )


def test_health_says_503_only_when_redis_is_down_not_for_a_bug(client, fake_redis, monkeypatch):
    def broken(self, *args, **options):
        raise _Bug("a bug in the code, not Redis being down")

    monkeypatch.setattr(redis.Redis, "execute_command", broken)

    try:
        response = _get_health(client)
    except _Bug:
        return  # the bug comes through: Flask answers it with a 500 and logs the traceback
    assert response.status_code != 503, (
        f"when the code itself fails ({_Bug.__name__}: a bug in the code, not Redis being "
        f"down), GET /health answered 503 {response.text!r}: the view (or check_redis) "
        "catches more than RedisUnavailable, an except Exception, so a monitor reports "
        "every bug as 'Redis is down'. Catch only RedisUnavailable in the view."
    )


def test_health_recovers_when_redis_comes_back(client, fake_redis):
    fake_redis.go_down()
    while_down = _get_health(client)
    fake_redis.come_back()

    after = _get_health(client)

    assert (while_down.status_code, after.status_code) == (503, 200), (
        f"GET /health answered {while_down.status_code} while Redis was down, then "
        f"{after.status_code} once it was back; expected 503, then 200. Ask Redis on every "
        "request; do not remember an old answer (redis-py reconnects by itself)."
    )


def test_health_notices_when_redis_goes_away(client, fake_redis):
    while_up = _get_health(client)
    fake_redis.go_down()

    after = _get_health(client)

    assert (while_up.status_code, after.status_code) == (200, 503), (
        f"GET /health answered {while_up.status_code} while Redis was up, then "
        f"{after.status_code} {after.text!r} once it was down; expected 200, then 503. Ask "
        "Redis on every request; do not remember that it answered once (in check_redis, the "
        "view or the app): a monitor must see Redis go away."
    )


def _redis_ping(app):
    result = app.test_cli_runner().invoke(args=["redis-ping"])
    if isinstance(result.exception, NotImplementedError):
        raise result.exception
    return result


def _escaped(result) -> str:
    error = result.exception
    if error is None or isinstance(error, SystemExit):
        return ""
    return (
        f" It crashed with {type(error).__name__}: {error}; a person should get a sentence, "
        "not a traceback."
    )


def test_redis_ping_prints_pong(app, fake_redis):
    result = _redis_ping(app)

    assert result.exit_code == 0 and "PONG" in result.output, (
        f"`flask redis-ping` with Redis up exited {result.exit_code} and printed "
        f"{result.output!r}; expected PONG and exit code 0, like `redis-cli ping`."
        f"{_escaped(result)}"
    )
    assert "PONG" in result.stdout, (
        f"`flask redis-ping` with Redis up wrote {result.stdout!r} to standard output and "
        f"{result.stderr!r} to standard error; expected PONG on standard output, like "
        "`redis-cli ping`: standard error is for errors, and `flask redis-ping | grep PONG` "
        "reads only standard output."
    )


def test_redis_ping_explains_and_exits_1_when_redis_is_down(app, fake_redis, redis_url):
    fake_redis.go_down()

    result = _redis_ping(app)

    assert _escaped(result) == "", (
        f"`flask redis-ping` with Redis down printed {result.output!r}.{_escaped(result)} "
        "Catch the error, print the explanation, then exit with SystemExit(1)."
    )
    assert result.exit_code == 1, (
        f"`flask redis-ping` with Redis down exited {result.exit_code}; expected exit code "
        "1, so a script (`flask redis-ping && ...`) knows Redis is not there: raise "
        "SystemExit(1) after printing the explanation."
    )
    assert "PONG" not in result.output, (
        f"`flask redis-ping` with Redis down printed {result.output!r}; no PONG without Redis."
    )
    assert redis_url in result.output and "redis-server" in result.output, (
        f"`flask redis-ping` with Redis down printed {result.output!r}; expected the URL it "
        f"tried, {redis_url!r}, and a hint to start `redis-server`."
    )
    assert redis_url in result.stderr, (
        f"`flask redis-ping` with Redis down wrote {result.stdout!r} to standard output and "
        f"{result.stderr!r} to standard error; expected the explanation on standard error, "
        "where errors go: `flask redis-ping > out.txt` should still show it (README, task 4; "
        "click's docs on printing: https://click.palletsprojects.com/en/stable/utils/#printing-to-stdout)."
    )
