"""Check the form before anything is queued: a job that can never succeed is not worth a message.

Once the request only queues the job, nobody is there to tell the user that their address
was mistyped: the worker fails later, in a log nobody reads. So everything that can be
checked without the network is checked here, and the form comes back with a message.
"""

from __future__ import annotations

import unicodedata  # noqa: F401  (you may want it: unicodedata.category(char))

MAX_EMAIL_LENGTH = 254  # SMTP's limit: a path is 256 octets at most, its < > included (RFC 5321)
MAX_THOUGHT_LENGTH = 200  # Giphy only reads the first 50 (giphy.MAX_QUERY); the email shows it all

# Done for you: the messages the tests expect, one for each kind of problem.
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
    """The email address and the thought, trimmed and checked, ready to travel to the worker.

    TODO (step 04_enqueue): return `(email, thought)` with the spaces around each stripped,
    or raise `InvalidForm(message)` with the message for the first problem found:
    - either one empty (or only spaces): MISSING_FIELDS.
    - a line break (CR, LF) or another control character in either one: NOT_ONE_LINE. A
      "\\r\\nBcc: someone@else" in an address is how extra email headers get smuggled in.
      `unicodedata.category(char)` is "Cc" for every control character.
    - an email longer than MAX_EMAIL_LENGTH, or one that is not an address: INVALID_EMAIL.
      Don't write a regex: `validate_email(email, check_deliverability=False)` from the
      email-validator package (`from email_validator import EmailNotValidError,
      validate_email`) checks the syntax, without asking DNS, and raises EmailNotValidError
      with a reason you can add to the message. Its result's `.normalized` is the address
      to use.
    - a thought longer than MAX_THOUGHT_LENGTH characters: THOUGHT_TOO_LONG.
    """
    raise NotImplementedError(
        "Step 04_enqueue: write clean_form(email, thought) in workit/validation.py: return the "
        "two trimmed strings, or raise InvalidForm with the message for the first problem. See "
        "stages/04_enqueue/README.md"
    )
