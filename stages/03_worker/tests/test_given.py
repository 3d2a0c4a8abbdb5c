"""What the skeleton already gives you: step 02's app, whose form still sends right away."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

EMAIL = "maeby@example.com"
THOUGHT = "marry me!"
GIF = "https://media.giphy.com/media/kataMarryMe/200.gif"


@pytest.mark.given
def test_the_form_still_sends_the_email_right_away(client, giphy, inbox, broker):
    giphy.search_finds(GIF)

    response = client.post("/mailers", data={"mailers[email]": EMAIL, "mailers[thought]": THOUGHT})

    assert response.status_code in (302, 303) and urlsplit(response.location).path == "/sent", (
        f"POST /mailers answered {response.status_code} -> {response.location!r}; expected a "
        "redirect to /sent, as in step 01."
    )
    deliveries = inbox.wait_for(1, timeout=1)
    assert [d.rcpt_tos for d in deliveries] == [(EMAIL,)], (
        "POST /mailers should still send the email itself, before it answers: the form starts "
        "using the task in step 04."
    )
    assert broker.queued() == [], (
        "POST /mailers put a task message in the Celery queue: in this step the form still "
        "sends by itself."
    )
