"""Beyond step 06 (issues 20 and 14): limits on sending, and a form sent twice is one request.

Runs with --solutions only. The finished app limits POST /mailers per client and per recipient
in Redis (workit/limits.py, Flask-Limiter): over a limit, 429 with Retry-After and the form,
nothing written or queued; Redis down, the limits fail closed (503). And each row keeps the
task id of the form that made it, unique: the same form sent again lands on its first page.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest
import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from kata.page import read_page

pytestmark = pytest.mark.reference

THOUGHT = "I've made a huge mistake"
PER_CLIENT, PER_RECIPIENT = 3, 2
TOO_MANY_FROM_YOU = "a lot of forms in a short time"
TOO_MANY_TO_THEM = "That address has had several emails"
LIMITS_UNAVAILABLE = "our mail queue is not answering"
SENT_BEFORE = "You sent this form already"


@pytest.fixture
def proxy_fix():
    return 0


@pytest.fixture
def app_config(app_config, proxy_fix):
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_PER_CLIENT": f"{PER_CLIENT} per minute",
        "RATELIMIT_PER_RECIPIENT": f"{PER_RECIPIENT} per hour",
        "PROXY_FIX_X_FOR": proxy_fix,
        "PROPAGATE_EXCEPTIONS": False,  # an error in the app is a 500 answer here, as in production
    }


@pytest.fixture
def send(client, database):
    """`send(email, client_ip=...)`: a fresh form from the page, sent; the answer."""
    rows = database()

    def post(email, thought=THOUGHT, client_ip="192.0.2.1", headers=None, submission=None):
        environ = {"REMOTE_ADDR": client_ip}
        if submission is None:
            submission = read_page(client.get("/", environ_base=environ).text).values.get("submission")
        fields = {"mailers[email]": email, "mailers[thought]": thought, "submission": submission}
        return client.post("/mailers", data=fields, environ_base=environ, headers=headers or {})

    post.rows = rows.rows
    return post


def answers(responses):
    return [response.status_code for response in responses]


def test_past_the_client_limit_the_form_comes_back_429_and_nothing_is_queued(send, broker):
    sent = [send(f"buster{n}@example.com") for n in range(PER_CLIENT + 1)]

    over = sent[-1]
    assert answers(sent) == [303] * PER_CLIENT + [429], (
        f"{PER_CLIENT + 1} forms from one client, to as many addresses, with a limit of "
        f"{PER_CLIENT} per minute per client, answered {answers(sent)}; expected the last one 429."
    )
    page = read_page(over.text)
    assert TOO_MANY_FROM_YOU in page.shown and page.values.get("mailers[email]") == f"buster{PER_CLIENT}@example.com", (
        f"the 429 page says {page.shown[:300]!r} with the fields {page.values}; expected the form again, "
        "filled in, saying the client sent too many."
    )
    assert 1 <= int(over.headers.get("Retry-After", "0")) <= 61, (  # whole seconds, rounded up
        f"the 429 has Retry-After {over.headers.get('Retry-After')!r}; expected the seconds until the "
        "per-minute limit lets a form through."
    )
    assert len(broker.queued()) == PER_CLIENT and len(send.rows()) == PER_CLIENT, (
        f"after the 429, {len(broker.queued())} jobs are queued and {len(send.rows())} rows written; "
        f"expected {PER_CLIENT} of each: a form over the limit queues and writes nothing."
    )


def test_past_the_recipient_limit_the_form_comes_back_429_whoever_sends_it(send, broker):
    # One inbox, spelled three ways, from three clients: the limit is per recipient.
    spellings = ["gob@example.com", "Gob@Example.COM", "gob+again@example.com"]
    sent = [send(email, client_ip=f"198.51.100.{n}") for n, email in enumerate(spellings)]

    assert answers(sent) == [303] * PER_RECIPIENT + [429], (
        f"{spellings} from three clients, with a limit of {PER_RECIPIENT} per hour per recipient, "
        f"answered {answers(sent)}; expected the third 429: in any case and with a +tag, one inbox."
    )
    assert TOO_MANY_TO_THEM in read_page(sent[-1].text).shown, read_page(sent[-1].text).shown[:300]
    assert int(sent[-1].headers.get("Retry-After", "0")) > 60, (
        f"Retry-After {sent[-1].headers.get('Retry-After')!r}; expected the wait of the per-hour limit."
    )
    assert len(broker.queued()) == PER_RECIPIENT and len(send.rows()) == PER_RECIPIENT


def test_a_refused_form_counts_for_no_recipient(send, broker):
    # Forms that are refused anyway (400) from many clients: no recipient's limit is spent on them.
    sent = [send("not an address", client_ip=f"203.0.113.{n}") for n in range(PER_RECIPIENT + 2)]

    assert answers(sent) == [400] * (PER_RECIPIENT + 2), (
        f"invalid forms from several clients answered {answers(sent)}; expected 400 each time: "
        "a form that names no valid address counts for no recipient."
    )


def test_redis_holds_neither_the_email_nor_the_ip_address(send, fake_redis):
    send("george@example.com", client_ip="192.0.2.77")

    stored = " ".join(key.decode() for key in fake_redis.client().keys("*"))
    assert "workit" in stored, f"no limit's key in Redis: {stored!r}"
    assert "george" not in stored and "example.com" not in stored and "192.0.2.77" not in stored, (
        f"Redis keys {stored!r} hold an email or an IP address: the limits key them by a digest."
    )


def test_forwarded_for_is_ignored_without_a_proxy(send):
    # Without PROXY_FIX_X_FOR, a client that names other addresses is still one client.
    sent = [
        send(f"lucille{n}@example.com", headers={"X-Forwarded-For": f"10.9.8.{n}"})
        for n in range(PER_CLIENT + 1)
    ]

    assert answers(sent)[-1] == 429, (
        f"{PER_CLIENT + 1} forms from one client, each with another X-Forwarded-For, answered "
        f"{answers(sent)}: a forged header escaped the limit. Trust it only behind a proxy (PROXY_FIX_X_FOR)."
    )


@pytest.mark.parametrize("proxy_fix", [1])
def test_behind_a_proxy_each_forwarded_client_has_its_own_limit(send):
    # PROXY_FIX_X_FOR=1: one proxy in front, whose X-Forwarded-For names the client.
    sent = [
        send(f"lindsay{n}@example.com", client_ip="192.0.2.250", headers={"X-Forwarded-For": f"10.9.8.{n}"})
        for n in range(PER_CLIENT + 1)
    ]

    assert answers(sent) == [303] * (PER_CLIENT + 1), (
        f"{PER_CLIENT + 1} clients behind one proxy (PROXY_FIX_X_FOR=1), one form each, answered "
        f"{answers(sent)}; expected 303 each time: behind the proxy, X-Forwarded-For is the client."
    )


def test_the_limits_come_from_the_environment():
    from workit.config import from_environment

    defaults = from_environment({})
    settings = from_environment(
        {"RATELIMIT_PER_CLIENT": "2 per second", "RATELIMIT_PER_RECIPIENT": "1 per day", "RATELIMIT_ENABLED": "0", "PROXY_FIX_X_FOR": "1"}
    )

    assert (defaults["RATELIMIT_ENABLED"], defaults["PROXY_FIX_X_FOR"]) == (True, 0), (
        f"with nothing set, RATELIMIT_ENABLED is {defaults['RATELIMIT_ENABLED']!r} and PROXY_FIX_X_FOR "
        f"{defaults['PROXY_FIX_X_FOR']!r}; expected the limits on, and no proxy trusted."
    )
    assert "minute" in defaults["RATELIMIT_PER_CLIENT"] and "hour" in defaults["RATELIMIT_PER_RECIPIENT"], defaults
    read = tuple(settings[name] for name in ("RATELIMIT_PER_CLIENT", "RATELIMIT_PER_RECIPIENT", "RATELIMIT_ENABLED", "PROXY_FIX_X_FOR"))
    assert read == ("2 per second", "1 per day", False, 1), (
        f"from the environment the settings read {read}; expected ('2 per second', '1 per day', False, 1): "
        "RATELIMIT_ENABLED=0 turns the limits off, for tests that need volume."
    )


def test_a_limit_that_is_no_limit_stops_the_app_at_start(app_config):
    from workit import create_app

    with pytest.raises(ValueError, match="RATELIMIT_PER_CLIENT"):
        create_app({**app_config, "RATELIMIT_PER_CLIENT": "lots"})


# --- Redis down under the limits: fail closed ----------------------------------------------


@pytest.fixture
def limits_redis(redis_outage, monkeypatch, fake_redis):
    """The limits count in a Redis that refuses connections; the queue's Redis still works."""
    faked = redis.from_url

    def from_url(url, **options):
        if url == redis_outage.refused:
            return redis.Redis(connection_pool=redis.ConnectionPool.from_url(url, **options))
        return faked(url, **options)

    monkeypatch.setattr(redis, "from_url", from_url)
    return redis_outage.refused


@pytest.fixture
def app_config_down(app_config, limits_redis):
    return {**app_config, "RATELIMIT_STORAGE_URI": limits_redis}


def test_redis_down_the_limits_fail_closed(app_config_down, broker, database_file, caplog):
    from workit import create_app

    app = create_app(app_config_down)
    from workit.db import db

    with app.app_context():
        db.create_all()
    client = app.test_client()
    fields = {"mailers[email]": "buster@example.com", "mailers[thought]": THOUGHT}

    try:
        answer = client.post("/mailers", data=fields)
    finally:
        app.extensions["celery"].close()

    page = read_page(answer.text)
    assert answer.status_code == 503, (
        f"with the limits' Redis refusing connections (the queue's up), the form answered "
        f"{answer.status_code}; expected 503: neither a 500 nor a form sent with no limit at all."
    )
    assert LIMITS_UNAVAILABLE in page.shown and page.values.get("mailers[email]") == "buster@example.com", page.shown[:300]
    assert answer.headers.get("Retry-After"), "the 503 has no Retry-After"
    assert broker.queued() == [], "the form was queued while its limits could not be checked"
    with sqlite3.connect(database_file) as connection:
        assert connection.execute("SELECT COUNT(*) FROM mailer_requests").fetchone()[0] == 0
    assert "buster" not in caplog.text, "the log names the address"


# --- the same form sent twice ---------------------------------------------------------------


def test_the_same_form_sent_twice_is_one_request_and_one_job(client, send, broker):
    submission = read_page(client.get("/").text).values.get("submission")

    first, second = (send("tobias@example.com", submission=submission) for _ in range(2))

    assert answers([first, second]) == [303, 303] and first.headers["Location"] == second.headers["Location"], (
        f"the same form sent twice answered {answers([first, second])}, to "
        f"{first.headers.get('Location')} and {second.headers.get('Location')}; expected both on "
        "the first request's status page."
    )
    assert len(send.rows()) == 1 and len(broker.queued()) == 1, (
        f"the same form sent twice wrote {len(send.rows())} rows and queued {len(broker.queued())} "
        "jobs; expected one of each: a double click is one email."
    )
    assert SENT_BEFORE in client.get(second.headers["Location"]).text


def test_the_same_form_sent_again_is_not_counted_against_a_limit(client, send):
    submission = read_page(client.get("/").text).values.get("submission")

    again = [send("maeby@example.com", submission=submission) for _ in range(PER_CLIENT + 1)]
    other = send("maeby@example.com", thought="Marry me!")

    assert answers(again) == [303] * (PER_CLIENT + 1) and other.status_code == 303, (
        f"one form sent {PER_CLIENT + 1} times, then another to the same address, answered "
        f"{answers(again)} and {other.status_code}; expected 303 each time: a form sent again "
        "lands on its page and spends no limit."
    )


def test_two_copies_of_a_form_at_the_same_moment_are_one_request(client, send, broker, database_file):
    # A double click whose two POSTs cross: the other copy commits its row first, between
    # this one's check for an earlier request and its own INSERT (at its flush or commit).
    submission = read_page(client.get("/").text).values.get("submission")
    rival = "rival-request-id"

    def commit_the_rival_first(session, *_flush_details):
        task_ids = [getattr(record, "task_id", None) for record in session.new]
        if not task_ids or not task_ids[0]:
            return
        now = datetime.now(timezone.utc).isoformat(" ")
        with sqlite3.connect(database_file, timeout=5) as connection:
            connection.execute(
                "INSERT INTO mailer_requests (id, email, thought, status, task_id, created_at, updated_at) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                (rival, "tobias@example.com", THOUGHT, task_ids[0], now, now),
            )

    event.listen(Session, "before_flush", commit_the_rival_first)
    try:
        answer = send("tobias@example.com", submission=submission)
    finally:
        event.remove(Session, "before_flush", commit_the_rival_first)

    assert answer.status_code == 303 and answer.headers.get("Location", "").endswith(f"/mailers/{rival}"), (
        f"a copy of the form committed first, then this one answered {answer.status_code} "
        f"(Location {answer.headers.get('Location')}); expected 303 to the first copy's page: "
        "the task_id is unique, and the second commit lands on the first request."
    )
    assert [row["id"] for row in send.rows()] == [rival] and broker.queued() == [], (
        f"rows {[row['id'] for row in send.rows()]}, queued {len(broker.queued())}; expected the "
        "rival's row alone and no job from this copy."
    )


def test_an_existing_database_upgrades_and_keeps_its_rows(app, the_db, database_file):
    the_db(app)
    runner = app.test_cli_runner()
    runner.invoke(args=["db", "upgrade", "0001"])
    now = datetime.now(timezone.utc).isoformat(" ")
    with sqlite3.connect(database_file) as connection:
        connection.execute(
            "INSERT INTO mailer_requests (id, email, thought, status, created_at, updated_at) "
            "VALUES ('old', 'gob@example.com', 'magic', 'sent', ?, ?)",
            (now, now),
        )

    result = runner.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0, result.output
    with sqlite3.connect(database_file) as connection:
        rows = connection.execute("SELECT id, task_id FROM mailer_requests").fetchall()
    assert rows == [("old", None)], f"after the upgrade to the task_id column the rows are {rows}"
