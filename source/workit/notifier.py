"""The randomness email: find the GIF, write the message, hand it to the SMTP server."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
#> task 01.3
from email.utils import formatdate, make_msgid
#> end

#> extra 04
import idna
#> end
from flask import current_app, render_template

from workit.giphy import fetch_gif_url

#> todo 01
# NEW(01_sync): given: the subject line. The three functions below are yours (tasks 3 to 5).
#> end
SUBJECT = "Here is your randomness email of awesome."


#> -04:stage
def build_randomness_email(email: str, thought: str, gif_url: str, sender: str) -> EmailMessage:
#> or stub 01.3 -01:stage
    """The email to `email` that shows `thought` and the GIF at `gif_url` (README, task 3)."""
    raise NotImplementedError(
        "Step 01_sync, task 3: write build_randomness_email() in workit/notifier.py: the "
        "email, with a plain-text part and an HTML part (stages/01_sync/README.md)"
    )
#> or extra 04
def build_randomness_email(email: str, thought: str, gif_url: str | None, sender: str) -> EmailMessage:
#> or task 01.3
    message = EmailMessage()
    message["To"] = email
    message["From"] = sender
    message["Subject"] = SUBJECT
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    context = {"thought": thought, "gif_url": gif_url}
    message.set_content(render_template("email/randomness.txt", **context))
    message.add_alternative(render_template("email/randomness.html", **context), subtype="html")
    return message
#> end


def deliver(message: EmailMessage, host: str, port: int, timeout: float) -> None:
    #> task 01.4
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
    #> or stub 01.4 -01:stage
    """Hand `message` to the SMTP server at `host`:`port` (README, task 4)."""
    raise NotImplementedError(
        "Step 01_sync, task 4: write deliver() in workit/notifier.py: hand the message to "
        "the SMTP server at host:port (stages/01_sync/README.md)"
    )
    #> or extra 04
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn("smtputf8"):
            # gob@bücher.de needs SMTPUTF8 (RFC 6531); without it, send to gob@xn--bcher-kva.de,
            # the same mailbox in ASCII. The form only takes ASCII before the @ (validation.py).
            message.replace_header("To", ascii_address(str(message["To"])))
    #> or task 01.4
        smtp.send_message(message)
    #> end


#> -04:stage
def send_randomness_email(email: str, thought: str) -> None:
#> or stub 01.5 -01:stage
    """Find a GIF for `thought` and email it to `email`, with the app's settings: the one
    job the view hands over (README, task 5)."""
    raise NotImplementedError(
        "Step 01_sync, task 5: write send_randomness_email() in workit/notifier.py: find the "
        "GIF, build the email, deliver it, all with the app's settings (stages/01_sync/README.md)"
    )
#> or extra 04
def ascii_address(address: str) -> str:
    """`address` with its domain in ASCII (IDNA 2008, as email-validator checked it), for a
    server without SMTPUTF8."""
    if address.isascii():
        return address
    mailbox, _, domain = address.rpartition("@")
    if not mailbox.isascii():  # a non-ASCII mailbox name has no ASCII form
        raise smtplib.SMTPNotSupportedError("a non-ASCII mailbox name needs an SMTP server with SMTPUTF8")
    return f"{mailbox}@{idna.encode(domain).decode('ascii')}"


def find_gif(thought: str) -> str:
    """The GIF's URL for the thought; raises GiphyError (see its `transient`) if there is none."""
#> or task 01.5
    config = current_app.config
#> or extra 04
    return fetch_gif_url(thought, config["GIPHY_API_KEY"], config["GIPHY_TIMEOUT"])


def send_email(email: str, thought: str, gif_url: str | None) -> None:
    """Write the email, with the GIF or (gif_url None) without one, and hand it to SMTP."""
    config = current_app.config
#> or task 01.5 -04:stage
    gif_url = fetch_gif_url(thought, config["GIPHY_API_KEY"], config["GIPHY_TIMEOUT"])
#> or task 01.5
    message = build_randomness_email(email, thought, gif_url, config["MAIL_SENDER"])
    deliver(message, config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"])
#> or extra 04


def send_randomness_email(email: str, thought: str) -> None:
    send_email(email, thought, find_gif(thought))
#> end
