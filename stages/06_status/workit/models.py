"""A mailer request: one form sent, its email and thought, and what became of its email.

The record is the truth about a request. The web app writes it (queued), the worker moves it
on (sending, then sent or failed), and the status page reads it (README, task 2).
"""

from __future__ import annotations

# NEW(06_status): given. A request's statuses, and how the status page says them.
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
FINAL = (SENT, FAILED)  # the status will not change again: the page stops asking
STATUS_WORDS = {
    QUEUED: "Queued: waiting for a worker to pick it up.",
    SENDING: "Sending: a worker is finding your GIF and writing the email.",
    SENT: "Sent! Check your inbox.",
    FAILED: "Failed: we could not send it.",
}

# TODO(06_status): task 2 of the README: the MailerRequest model, with an id nobody can guess.
