"""What the skeleton already gives you: the Redis settings, and step 01's app, still synchronous."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from workit import create_app

EMAIL = "lindsay@example.com"
THOUGHT = "her?"
GIF = "https://media.giphy.com/media/kataHer/200.gif"


@pytest.mark.given
def test_redis_settings_come_from_the_environment(monkeypatch):
    for name in ("REDIS_URL", "REDIS_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    defaults = create_app().config

    assert defaults["REDIS_URL"] == "redis://localhost:6379/0", (
        "with no REDIS_URL set, the app should use the local Redis: redis://localhost:6379/0."
    )
    assert 0 < defaults["REDIS_TIMEOUT"] <= 2, (
        f"REDIS_TIMEOUT defaults to {defaults['REDIS_TIMEOUT']!r}; expected a short timeout, "
        "in seconds."
    )

    monkeypatch.setenv("REDIS_URL", "redis://redis.internal:6380/1")
    monkeypatch.setenv("REDIS_TIMEOUT", "0.75")
    config = create_app().config

    assert (config["REDIS_URL"], config["REDIS_TIMEOUT"]) == ("redis://redis.internal:6380/1", 0.75)
    given = create_app({"REDIS_URL": "redis://given.invalid:1/0"}).config["REDIS_URL"]
    assert given == "redis://given.invalid:1/0", (
        "create_app(config) should let the given config win over the environment."
    )


@pytest.mark.given
def test_the_form_still_sends_the_email_right_away(client, giphy, inbox, fake_redis, redis_url):
    giphy.search_finds(GIF)

    response = client.post("/mailers", data={"mailers[email]": EMAIL, "mailers[thought]": THOUGHT})

    assert response.status_code in (302, 303) and urlsplit(response.location).path == "/sent", (
        f"POST /mailers answered {response.status_code} -> {response.location!r}; expected a "
        "redirect to /sent, as in step 01."
    )
    deliveries = inbox.wait_for(1, timeout=1)
    assert [d.rcpt_tos for d in deliveries] == [(EMAIL,)], (
        "POST /mailers should still send the email itself, before it answers: the queue you "
        "build in this step is not used by the form until step 04."
    )
    database = int(urlsplit(redis_url).path.strip("/") or 0)  # the app's Redis database
    assert fake_redis.client(db=database).llen("workit:jobs") == 0, (
        "POST /mailers put a job in workit:jobs: in this step the form still sends by itself."
    )
