"""The randomness email: find the GIF, write the message, hand it to the SMTP server."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app, render_template

from workit.giphy import fetch_gif_url

# NEW(01_sync): given: the subject line. The three functions below are yours (tasks 3 to 5).
SUBJECT = "Here is your randomness email of awesome."


def build_randomness_email(email: str, thought: str, gif_url: str, sender: str) -> EmailMessage:
    """The email to `email` that shows `thought` and the GIF at `gif_url` (README, task 3)."""
    raise NotImplementedError(
        "Step 01_sync, task 3: write build_randomness_email() in workit/notifier.py: the "
        "email, with a plain-text part and an HTML part (stages/01_sync/README.md)"
    )


def deliver(message: EmailMessage, host: str, port: int, timeout: float) -> None:
    """Hand `message` to the SMTP server at `host`:`port` (README, task 4)."""
    raise NotImplementedError(
        "Step 01_sync, task 4: write deliver() in workit/notifier.py: hand the message to "
        "the SMTP server at host:port (stages/01_sync/README.md)"
    )


def send_randomness_email(email: str, thought: str) -> None:
    """Find a GIF for `thought` and email it to `email`, with the app's settings: the one
    job the view hands over (README, task 5)."""
    raise NotImplementedError(
        "Step 01_sync, task 5: write send_randomness_email() in workit/notifier.py: find the "
        "GIF, build the email, deliver it, all with the app's settings (stages/01_sync/README.md)"
    )
