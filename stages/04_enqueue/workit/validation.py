"""Check the form before anything is queued: a job that can never succeed is not worth a message.

Once the request only queues the job, nobody is there to tell the user that their address
was mistyped: the worker fails later, in a log nobody reads. So everything that can be
checked without the network is checked here, and the form comes back with a message.
"""

from __future__ import annotations

# NEW(04_enqueue): given, the limits, the messages and InvalidForm; clean_form is yours.
MAX_EMAIL_LENGTH = 254  # SMTP's limit: a path is 256 octets at most, its < > included (RFC 5321)
MAX_THOUGHT_LENGTH = 200  # Giphy only reads the first 50 (giphy.MAX_QUERY); the email shows it all

# The messages the tests expect, one for each kind of problem.
MISSING_FIELDS = "Please give us both an email address and a thought."
NOT_ONE_LINE = (
    "Please write the email address and the thought as plain text on one line, with no line "
    "breaks or control characters."
)
INVALID_EMAIL = "Please check your email address: we cannot send to that one."
THOUGHT_TOO_LONG = f"Please keep your thought to {MAX_THOUGHT_LENGTH} characters or fewer."


class InvalidForm(ValueError):
    """The form cannot be used; the message says why, in words for the person who filled it in."""


def clean_form(email: str, thought: str) -> tuple[str, str]:
    """The email address and the thought, trimmed and checked, ready to travel to the worker;
    InvalidForm with the message of the first problem otherwise (README, tasks 2 to 4)."""
    raise NotImplementedError("Step 04_enqueue, task 2: write clean_form() in workit/validation.py")
