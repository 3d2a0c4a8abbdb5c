"""What already works when this step starts: the form, and a form that is refused queues nothing."""

from __future__ import annotations

import pytest


@pytest.mark.given
def test_the_form_is_still_there(client):
    page = client.get("/")

    assert page.status_code == 200 and "Welcome to Working-It" in page.get_data(as_text=True)


@pytest.mark.given
def test_a_blank_form_is_refused_and_queues_nothing(client, queued):
    answer = client.post("/mailers", data={"mailers[email]": " ", "mailers[thought]": ""})

    assert answer.status_code == 400, f"a blank form answered {answer.status_code}; expected the form again, 400."
    assert queued() == {}, f"a refused form queued {queued()}."


@pytest.mark.given
def test_the_queues_and_the_limits_have_their_settings(app):
    from workit.config import from_environment

    settings = from_environment({})

    assert settings["GIPHY_RATE_LIMIT"] == "100/h", "Giphy's beta keys allow 100 calls an hour"
    assert 0 < settings["GIPHY_SOFT_TIME_LIMIT"] < settings["GIPHY_TIME_LIMIT"]
    assert settings["MAIL_TIME_LIMIT"] > settings["MAIL_TIMEOUT"]
