"""What the skeleton already gives you: the form page, and the health check of step 02."""

from __future__ import annotations

import pytest


@pytest.mark.given
def test_the_home_page_still_shows_the_form(client):
    response = client.get("/")

    assert response.status_code == 200, f"GET / answered {response.status_code}; expected 200."
    assert 'action="/mailers"' in response.text and 'name="mailers[email]"' in response.text, (
        "GET / should still show the form that posts mailers[email] and mailers[thought] to "
        "/mailers."
    )


@pytest.mark.given
def test_the_health_check_still_answers(client):
    response = client.get("/health")

    assert (response.status_code, response.get_json()) == (200, {"redis": "PONG"}), (
        f"GET /health answered {response.status_code} {response.get_data(as_text=True)!r}; "
        "expected 200 {'redis': 'PONG'}, as in step 02: the app and its jobs share one Redis."
    )
