"""POST /mailers: send the randomness email right away, then show the thank-you page."""

from __future__ import annotations

import smtplib
from urllib.parse import urlsplit

import pytest

from kata.inbox import image_sources
from workit import create_app

EMAIL = "lucille@example.com"
THOUGHT = "always money in the banana stand"
GIF = "https://media.giphy.com/media/kataBananaStand/200.gif"
OTHER_GIF = "https://media.giphy.com/media/kataOther/200.gif"
MISSING_FIELDS = "Please give us both an email address and a thought."


def form(email: str | None = EMAIL, thought: str | None = THOUGHT) -> dict[str, str]:
    fields = {"mailers[email]": email, "mailers[thought]": thought}
    return {name: value for name, value in fields.items() if value is not None}


def post(client, inbox, data: dict[str, str], **options):
    try:
        return client.post("/mailers", data=data, **options)
    except (ConnectionRefusedError, smtplib.SMTPException) as error:
        pytest.fail(
            f"POST /mailers failed to send the email: {type(error).__name__}: {error}. This "
            f"test's SMTP server listens on {inbox.host}:{inbox.port}: connect to "
            "current_app.config['MAIL_SERVER'] and ['MAIL_PORT'], not a fixed localhost:1025."
        )


def test_posting_the_form_redirects_to_the_sent_page(client, giphy, inbox):
    giphy.search_finds(GIF)

    response = post(client, inbox, form())

    assert response.status_code in (302, 303), (
        f"POST /mailers answered {response.status_code}; expected a redirect (302 or 303) "
        "to /sent, so a reload of the page does not send the email again."
    )
    where = urlsplit(response.location or "").path
    assert where == "/sent", f"POST /mailers redirected to {response.location!r}; expected /sent."


def test_the_sent_page_says_who_got_the_email(client, giphy, inbox):
    giphy.search_finds(GIF)

    response = post(client, inbox, form(), follow_redirects=True)

    assert response.request.path == "/sent", (
        f"after following POST /mailers' redirects the browser is on {response.request.path!r}; "
        "expected /sent."
    )
    expected = f"You did it! Email sent to {EMAIL}"
    assert expected in response.text, (
        f"/sent, reached from POST /mailers with mailers[email]={EMAIL!r}, does not show "
        f"{expected!r}. flash() that exact text in the POST view; /sent displays flashed "
        "messages for you."
    )


def test_posting_the_form_emails_the_gif_for_that_thought(client, giphy, inbox):
    giphy.search_finds(GIF, OTHER_GIF)

    post(client, inbox, form())

    deliveries = inbox.wait_for(1, timeout=1)
    assert len(deliveries) == 1, (
        f"one POST /mailers delivered {len(deliveries)} messages to the test SMTP server; "
        "expected exactly 1. None: is the mail going to MAIL_SERVER/MAIL_PORT from the app "
        "config? Two: the email is being sent twice."
    )
    delivery = deliveries[0]
    message = delivery.message
    assert delivery.rcpt_tos == (EMAIL,), (
        f"the email went to {list(delivery.rcpt_tos)!r}; expected [{EMAIL!r}], the "
        "mailers[email] field. Are the two fields swapped?"
    )
    assert (message["To"], message["From"]) == (EMAIL, "gob@example.com"), (
        f"To/From are {message['To']!r}/{message['From']!r}; expected {EMAIL!r}/'gob@example.com'."
    )
    assert message["Subject"] == "Here is your randomness email of awesome.", (
        f"Subject is {message['Subject']!r}; expected 'Here is your randomness email of awesome.'"
    )
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None, (
        "the email should have both a text/plain and a text/html part."
    )
    html = html_part.get_content()
    assert THOUGHT in html and THOUGHT in text_part.get_content(), (
        f"the email should quote the thought {THOUGHT!r} (from mailers[thought]) in both parts."
    )
    assert image_sources(html) == [GIF], (
        f"the HTML shows the images {image_sources(html)!r}; expected [{GIF!r}], the first "
        "GIF Giphy found for the thought."
    )


def test_the_view_searches_giphy_for_the_thought_with_the_configured_key(app_config, giphy, inbox):
    client = create_app({**app_config, "GIPHY_API_KEY": "key-from-config"}).test_client()
    giphy.search_finds(GIF)

    post(client, inbox, form())

    searches = giphy.calls_to("search")
    asked = [(c.params.get("q"), c.params.get("api_key")) for c in searches]
    assert asked == [(THOUGHT, "key-from-config")], (
        f"POST /mailers searched Giphy with (q, api_key) = {asked!r}; expected "
        f"[({THOUGHT!r}, 'key-from-config')]: q is the mailers[thought] field, and the key is "
        "the app's GIPHY_API_KEY setting, never a key written in the code."
    )


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        pytest.param(form(email=""), "an empty email", id="empty-email"),
        pytest.param(form(thought="   "), "a thought of only spaces", id="blank-thought"),
        pytest.param({}, "neither field", id="no-fields"),
    ],
)
def test_an_incomplete_form_is_shown_again_and_nothing_is_sent(client, giphy, inbox, fields, what):
    response = post(client, inbox, fields)

    assert response.status_code == 400, (
        f"POST /mailers with {what} ({fields!r}) answered {response.status_code}; expected "
        "400, with the form shown again."
    )
    assert MISSING_FIELDS in response.text, (
        f"POST /mailers with {what} should say {MISSING_FIELDS!r} (render index.html with "
        "error=MISSING_FIELDS)."
    )
    assert 'name="mailers[email]"' in response.text, (
        f"POST /mailers with {what} should show the form again, so the user can fix it."
    )
    assert giphy.calls == [], (
        f"POST /mailers with {what} still asked Giphy {len(giphy.calls)} time(s); check the "
        "fields before doing any work."
    )
    assert inbox.deliveries == [], f"POST /mailers with {what} still sent an email."
