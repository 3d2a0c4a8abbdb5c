"""What already works when this step starts: the form, and a form that is refused queues nothing."""

from __future__ import annotations

import pytest


@pytest.mark.given
def test_the_form_is_still_there(client):
    page = client.get("/")

    assert page.status_code == 200 and "Welcome to Working-It" in page.get_data(as_text=True)


@pytest.mark.given
def test_a_blank_form_is_refused_and_queues_nothing(client, broker):
    answer = client.post("/mailers", data={"mailers[email]": " ", "mailers[thought]": ""})

    assert answer.status_code == 400, f"a blank form answered {answer.status_code}; expected the form again, 400."
    assert broker.queued() == [], "a refused form queued a job."
