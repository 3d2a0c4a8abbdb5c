"""The randomness email: find the GIF, write the message, hand it to the SMTP server."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid  # noqa: F401 (for you)

from flask import current_app, render_template

from workit.giphy import fetch_gif_url

SUBJECT = "Here is your randomness email of awesome."


def build_randomness_email(email: str, thought: str, gif_url: str, sender: str) -> EmailMessage:
    """Return the email for `email`, showing `thought` and the GIF at `gif_url`.

    TODO (step 01_sync):
    - an `EmailMessage` with the headers To=email, From=sender, Subject=SUBJECT, a Date
      (`formatdate(localtime=True)`) and a Message-ID (`make_msgid(...)`);
    - a text/plain body: `render_template("email/randomness.txt", thought=..., gif_url=...)`;
    - a text/html alternative: `render_template("email/randomness.html", ...)`,
      added with `add_alternative(..., subtype="html")`.
    render_template needs an app context; Flask gives you one inside a request.
    """
    raise NotImplementedError(
        "Step 01_sync: write build_randomness_email() in workit/notifier.py: an EmailMessage "
        "with To, From, Subject, a plain-text part and an HTML part. See stages/01_sync/README.md"
    )


def deliver(message: EmailMessage, host: str, port: int, timeout: float) -> None:
    """Hand `message` to the SMTP server at host:port.

    TODO (step 01_sync): open `smtplib.SMTP(host, port, timeout=timeout)` in a `with`
    block and call `send_message(message)` on it.
    """
    raise NotImplementedError(
        "Step 01_sync: write deliver() in workit/notifier.py: send the message with "
        "smtplib.SMTP(host, port, timeout=timeout). See stages/01_sync/README.md"
    )


def send_randomness_email(email: str, thought: str) -> None:
    """Fetch a GIF for `thought` and email it to `email`: the one job the view asks for.

    TODO (step 01_sync): read everything else from `current_app.config`: GIPHY_API_KEY,
    GIPHY_TIMEOUT, MAIL_SENDER, MAIL_SERVER, MAIL_PORT, MAIL_TIMEOUT. Then
    fetch_gif_url -> build_randomness_email -> deliver.
    """
    raise NotImplementedError(
        "Step 01_sync: write send_randomness_email() in workit/notifier.py: fetch the GIF, "
        "build the email, deliver it, all settings from current_app.config. "
        "See stages/01_sync/README.md"
    )
