"""The randomness email: find the GIF, write the message, hand it to the SMTP server."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import idna
from flask import current_app, render_template

from workit.giphy import fetch_gif_url

SUBJECT = "Here is your randomness email of awesome."


def build_randomness_email(email: str, thought: str, gif_url: str | None, sender: str) -> EmailMessage:
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


def deliver(message: EmailMessage, host: str, port: int, timeout: float) -> None:
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn("smtputf8"):
            # gob@bücher.de needs SMTPUTF8 (RFC 6531); without it, send to gob@xn--bcher-kva.de,
            # the same mailbox in ASCII. The form only takes ASCII before the @ (validation.py).
            message.replace_header("To", ascii_address(str(message["To"])))
        smtp.send_message(message)


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
    config = current_app.config
    return fetch_gif_url(thought, config["GIPHY_API_KEY"], config["GIPHY_TIMEOUT"])


def send_email(email: str, thought: str, gif_url: str | None) -> None:
    """Write the email, with the GIF or (gif_url None) without one, and hand it to SMTP."""
    config = current_app.config
    message = build_randomness_email(email, thought, gif_url, config["MAIL_SENDER"])
    deliver(message, config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"])


def send_randomness_email(email: str, thought: str) -> None:
    send_email(email, thought, find_gif(thought))
