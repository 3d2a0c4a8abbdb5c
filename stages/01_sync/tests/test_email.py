"""The randomness email: build_randomness_email, deliver, and send_randomness_email."""

from __future__ import annotations

import email
import email.policy
import inspect
import smtplib
from email.message import EmailMessage

import pytest

from kata.inbox import image_sources
from workit import create_app
from workit.notifier import build_randomness_email, deliver, send_randomness_email

SENDER = "gob@example.com"
OTHER_SENDER = "kata-sender@example.org"
SUBJECT = "Here is your randomness email of awesome."
TO = "buster@example.com"
THOUGHT = "I have made a huge mistake"
GIF = "https://media.giphy.com/media/kataMistake/200.gif"
# No such host: the test's SMTP connections to it go to the test's inbox. A mail server
# written into the code ("localhost", "127.0.0.1") is not this name, so it shows up.
MAIL_SERVER_NAME = "mail.kata.invalid"
MAIL_TIMEOUT = 3.25
MAIL_SENDER = "workit-sender@example.net"


def as_received(message: object) -> EmailMessage:
    """The message as a mail client would read it: serialized, then parsed again."""
    assert hasattr(message, "as_bytes"), (
        f"build_randomness_email(...) returned {message!r}; expected an "
        "email.message.EmailMessage."
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def build(app, thought: str = THOUGHT, sender: str = OTHER_SENDER) -> EmailMessage:
    with app.app_context():
        return as_received(build_randomness_email(TO, thought, GIF, sender))


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None, (
        f"the email has no text/{kind} part; expected a text/plain body plus a text/html "
        "alternative of it, so every mail client shows one (README, task 3; the email examples "
        "in Python's docs: https://docs.python.org/3/library/email.examples.html)."
    )
    return part.get_content()


def test_the_email_has_the_right_headers(app):
    message = build(app)

    for header, expected in (("To", TO), ("From", OTHER_SENDER), ("Subject", SUBJECT)):
        assert message[header] == expected, (
            f"build_randomness_email({TO!r}, {THOUGHT!r}, {GIF!r}, {OTHER_SENDER!r}) gave "
            f"{header}: {message[header]!r}; expected {expected!r}."
            + (
                " From is the `sender` argument: gob@example.com is only the default "
                "MAIL_SENDER, not a value to write into the code."
                if header == "From" and message[header] == SENDER
                else ""
            )
        )
    for header in ("Date", "Message-ID"):
        assert message[header], (
            f"build_randomness_email(...) gave no {header} header; every email needs one "
            "(RFC 5322), and mail clients sort and thread by it. README, task 3; Python's "
            "email.utils has helpers for both: https://docs.python.org/3/library/email.utils.html"
        )


def test_the_plain_text_part_has_the_thought_and_the_gif_url(app):
    text = body(build(app), "plain")

    assert THOUGHT in text, (
        f"the text/plain part does not contain the thought {THOUGHT!r}; it reads: {text!r}"
    )
    assert GIF in text, (
        f"the text/plain part does not contain the GIF URL {GIF!r}, so a reader without "
        f"HTML never sees the GIF; it reads: {text!r}"
    )


def test_the_html_part_shows_the_thought_and_the_gif_as_an_image(app):
    html = body(build(app), "html")

    assert "Your thoughts are like:" in html, (
        f"the text/html part lacks 'Your thoughts are like:'; render the template "
        f"email/randomness.html. It reads: {html!r}"
    )
    assert THOUGHT in html, f"the text/html part does not contain the thought {THOUGHT!r}."
    sources = image_sources(html)
    assert GIF in sources, (
        f"the text/html part has <img> sources {sources!r}; expected one <img src={GIF!r}>, "
        "the gif_url argument, so the GIF shows up in the email."
    )


def test_the_thought_is_html_escaped_in_the_html_part(app):
    thought = "<script>alert(1)</script> & friends"

    html = body(build(app, thought), "html")

    assert "<script>" not in html, (
        f"with the thought {thought!r}, the text/html part contains a raw <script> tag: the "
        "thought is user input and must be escaped. Build the HTML part from the template "
        "email/randomness.html, which Flask escapes for you, not by pasting strings (README, "
        "task 3; Flask's templates: autoescaping)."
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in html, (
        f"with the thought {thought!r}, the text/html part should show it escaped as "
        f"'&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends'; it reads: {html!r}"
    )


def test_deliver_hands_the_message_to_the_smtp_server(inbox):
    message = EmailMessage()
    message["To"] = TO
    message["From"] = SENDER
    message["Subject"] = SUBJECT
    message.set_content("Hello from the kata.")

    try:
        deliver(message, inbox.host, inbox.port, 5.0)
    except (ConnectionRefusedError, smtplib.SMTPException) as error:
        pytest.fail(
            f"deliver(message, {inbox.host!r}, {inbox.port}, 5.0) failed: "
            f"{type(error).__name__}: {error}. Connect to the host and port you are given."
        )

    deliveries = inbox.wait_for(1, timeout=1)
    assert len(deliveries) == 1, (
        f"after deliver(message, {inbox.host!r}, {inbox.port}, 5.0) the SMTP server at "
        f"{inbox.host}:{inbox.port} received {len(deliveries)} messages; expected 1. Connect "
        "to the host and port you are given (not a fixed localhost:1025) and send once."
    )
    received = deliveries[0]
    assert received.rcpt_tos == (TO,), (
        f"the SMTP envelope went to {list(received.rcpt_tos)!r}; expected [{TO!r}], the "
        "message's To header (README, task 4; smtplib's docs say which method reads the "
        "envelope from the message's headers)."
    )
    assert received.message["Subject"] == SUBJECT, (
        f"the server received Subject {received.message['Subject']!r}; expected {SUBJECT!r}: "
        "send the message you were given."
    )


def test_deliver_gives_the_smtp_connection_a_timeout(inbox, monkeypatch):
    opened: list[dict[str, object]] = []
    original = smtplib.SMTP.__init__
    signature = inspect.signature(original)

    def recording_init(self, *args, **kwargs):
        opened.append(signature.bind(self, *args, **kwargs).arguments)
        original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "__init__", recording_init)
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = TO, SENDER, SUBJECT
    message.set_content("Hello again.")

    deliver(message, inbox.host, inbox.port, 2.5)

    timeouts = [arguments.get("timeout") for arguments in opened]
    assert timeouts == [2.5], (
        f"deliver(message, host, port, 2.5) opened SMTP connections with timeouts "
        f"{timeouts!r}; expected one connection, with the timeout deliver was given, 2.5. "
        "Without a timeout a stuck mail server hangs the request (README, task 4; smtplib's "
        "client, https://docs.python.org/3/library/smtplib.html)."
    )


def test_deliver_closes_the_smtp_connection(inbox, monkeypatch):
    connections: list[smtplib.SMTP] = []
    original = smtplib.SMTP.__init__

    def recording_init(self, *args, **kwargs):
        connections.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "__init__", recording_init)
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = TO, SENDER, SUBJECT
    message.set_content("Goodbye.")

    deliver(message, inbox.host, inbox.port, 2.5)

    still_open = [smtp for smtp in connections if smtp.sock is not None]
    assert not still_open, (
        f"deliver(message, host, port, 2.5) returned with {len(still_open)} SMTP connection(s) "
        "still open. Say goodbye to the server and close the connection when the message is "
        "sent: each open one holds a socket in your app and a session on the server. "
        "smtplib's client can do both for you in a `with` block, even when sending fails "
        "(README, task 4; https://docs.python.org/3/library/smtplib.html)."
    )


def record_smtp_connections(monkeypatch, inbox) -> list[dict[str, object]]:
    """Every SMTP connection smtplib opens from now on: its host, port and timeout.

    A connection to MAIL_SERVER_NAME is made to the test's inbox instead.
    """
    opened: list[dict[str, object]] = []
    connect = smtplib.SMTP.connect

    def recording_connect(self, host="localhost", port=0, source_address=None):
        opened.append({"host": host, "port": port, "timeout": self.timeout})
        if host == MAIL_SERVER_NAME:
            host = inbox.host
        return connect(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", recording_connect)
    return opened


def test_send_randomness_email_takes_every_setting_from_the_app_config(
    app_config, giphy, inbox, monkeypatch
):
    settings = {
        "GIPHY_API_KEY": "another-kata-key",
        "GIPHY_TIMEOUT": 2.5,
        "MAIL_SERVER": MAIL_SERVER_NAME,
        "MAIL_TIMEOUT": MAIL_TIMEOUT,
        "MAIL_SENDER": MAIL_SENDER,
    }
    app = create_app({**app_config, **settings})
    giphy.search_finds(GIF)
    opened = record_smtp_connections(monkeypatch, inbox)

    with app.app_context():
        try:
            send_randomness_email(TO, THOUGHT)
        except (OSError, smtplib.SMTPException) as error:
            pytest.fail(
                f"send_randomness_email({TO!r}, {THOUGHT!r}) failed to send: "
                f"{type(error).__name__}: {error}. This test's app has MAIL_SERVER="
                f"{MAIL_SERVER_NAME!r} and MAIL_PORT={inbox.port} (the test routes that name to "
                f"its SMTP server on {inbox.host}): use current_app.config['MAIL_SERVER'] and "
                "['MAIL_PORT'], not a fixed localhost:1025."
            )

    searches = giphy.calls_to("search")
    assert [c.params.get("api_key") for c in searches] == ["another-kata-key"], (
        f"send_randomness_email({TO!r}, {THOUGHT!r}) searched Giphy with api_key "
        f"{[c.params.get('api_key') for c in searches]!r}; expected ['another-kata-key'], "
        "current_app.config['GIPHY_API_KEY'] of this app."
    )
    assert [c.timeout for c in searches] == [2.5], (
        f"the search got timeout {[c.timeout for c in searches]!r}; expected [2.5], "
        "current_app.config['GIPHY_TIMEOUT']."
    )
    expected = [{"host": MAIL_SERVER_NAME, "port": inbox.port, "timeout": MAIL_TIMEOUT}]
    assert opened == expected, (
        f"with MAIL_SERVER={MAIL_SERVER_NAME!r}, MAIL_PORT={inbox.port} and MAIL_TIMEOUT="
        f"{MAIL_TIMEOUT} in the app config, send_randomness_email opened the SMTP connections "
        f"{opened!r}; expected one, {expected!r}. Pass current_app.config['MAIL_SERVER'], "
        "['MAIL_PORT'] and ['MAIL_TIMEOUT'] on to deliver: a fixed 'localhost' or timeout 10 "
        "works on your machine and nowhere else."
    )
    deliveries = inbox.wait_for(1, timeout=1)
    assert len(deliveries) == 1, (
        f"send_randomness_email sent {len(deliveries)} messages to the test SMTP server at "
        f"{inbox.host}:{inbox.port}; expected 1. Use current_app.config['MAIL_SERVER'] and "
        "['MAIL_PORT'] (this test's server is not on port 1025)."
    )
    message = deliveries[0].message
    assert (message["From"], deliveries[0].mail_from) == (MAIL_SENDER, MAIL_SENDER), (
        f"with MAIL_SENDER={MAIL_SENDER!r} in the app config, the email came From: "
        f"{message['From']!r} (SMTP envelope: {deliveries[0].mail_from!r}); expected "
        f"{MAIL_SENDER!r}, current_app.config['MAIL_SENDER'], passed to "
        "build_randomness_email as the sender."
    )
    html = body(message, "html")
    assert GIF in image_sources(html), (
        f"the email's <img> sources are {image_sources(html)!r}; expected the GIF Giphy "
        f"found, {GIF!r}: pass fetch_gif_url's answer on to build_randomness_email."
    )
