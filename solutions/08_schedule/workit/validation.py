"""Check the form before anything is queued: a job that can never succeed is not worth a message.

Once the request only queues the job, nobody is there to tell the user that their address
was mistyped: the worker fails later, in a log nobody reads. So everything that can be
checked without the network is checked here, and the form comes back with a message.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_to_bytes

from email_validator import EmailNotValidError, validate_email
from flask import request

MAX_EMAIL_LENGTH = 254  # SMTP's limit: a path is 256 octets at most, its < > included (RFC 5321)
MAX_THOUGHT_LENGTH = 200  # Giphy only reads the first 50 (giphy.MAX_QUERY); the email shows it all

MISSING_FIELDS = "Please give us both an email address and a thought."
NOT_ONE_LINE = (
    "Please write the email address and the thought as plain text on one line, with no line "
    "breaks or control characters."
)
INVALID_EMAIL = "Please check your email address: we cannot send to that one."
THOUGHT_TOO_LONG = f"Please keep your thought to {MAX_THOUGHT_LENGTH} characters or fewer."
# Problems with the request rather than with what was typed (see workit/views.py).
NOT_UTF8 = (
    "We could not read that form: it was not sent as UTF-8 text. Please type the email "
    "address and the thought again."
)
FORM_TOO_BIG = "That form is far too big. Please send a short email address and a short thought."
FORM_EXPIRED = (
    "This form has expired or did not come from our page. Please check it and send it again."
)
# Redis down or too slow. A timeout does not tell whether the message got there: say only that.
QUEUE_UNAVAILABLE = (
    "Sorry, our mail queue did not answer in time, so we cannot tell whether your email is on "
    "its way. Please send the form again in a minute."
)
# Redis down under the sending limits (workit/limits.py): they are checked before anything is
# queued, so here we know that nothing was.
LIMITS_UNAVAILABLE = (
    "Sorry, we cannot take your form just now: our mail queue is not answering, so it has not "
    "been sent. Please try again in a minute."
)

# Cc: the control characters (CR, LF, tab, NUL, ESC...); Zl, Zp: the Unicode line and
# paragraph separators. A line break in an address is how headers get injected (Bcc: ...).
_NOT_ON_ONE_LINE = {"Cc", "Zl", "Zp"}

# An RFC 2047 encoded word, =?charset?Q-or-B?text?=. It is not allowed in an address (RFC 2047,
# section 5), but email-validator takes it as ordinary characters, while Python's email package
# decodes it in a To: header: =?utf-8?q?a=40evil.example=2C?=@example.com goes out as
# "To: a@evil.example,@example.com". So an address holding one is refused.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?[^?]*\?=", re.IGNORECASE)
ENCODED_WORD = "It holds an encoded word (=?...?=), which is not allowed in an address."


class InvalidForm(ValueError):
    """The form cannot be used; the message says why, in words for the person who filled it in."""


URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def is_utf8_form(body: bytes, mimetype: str = URLENCODED) -> bool:
    """Whether a form body (urlencoded or multipart) decodes as UTF-8.

    Werkzeug reads an urlencoded body with raw non-UTF-8 bytes as an empty form, keeps a
    %-escape that is not UTF-8 (caf%E9) as it is, and decodes a multipart field with
    errors="replace" (caf\xe9 becomes caf\ufffd): so the view checks the bytes themselves. A
    multipart body is checked whole: the form has no file field, and its boundaries and part
    headers are ASCII.
    """
    text = body if mimetype == MULTIPART else unquote_to_bytes(body.replace(b"+", b" "))
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def clean_form(email: str, thought: str) -> tuple[str, str]:
    """The email address and the thought, trimmed and checked, ready to travel to the worker."""
    email, thought = email.strip(), thought.strip()
    if not email or not thought:
        raise InvalidForm(MISSING_FIELDS)
    if any(unicodedata.category(char) in _NOT_ON_ONE_LINE for char in email + thought):
        raise InvalidForm(NOT_ONE_LINE)
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidForm(f"{INVALID_EMAIL} It is longer than {MAX_EMAIL_LENGTH} characters.")
    if _ENCODED_WORD.search(email):
        raise InvalidForm(f"{INVALID_EMAIL} {ENCODED_WORD}")
    try:
        # Syntax only: looking the domain up in DNS would put a network call back in the
        # request. allow_smtputf8=False: smtplib can only send to a non-ASCII mailbox through a
        # server that speaks SMTPUTF8, so refuse such an address now rather than fail later.
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as problem:
        raise InvalidForm(f"{INVALID_EMAIL} {problem}") from problem
    if len(thought) > MAX_THOUGHT_LENGTH:
        raise InvalidForm(THOUGHT_TOO_LONG)
    return checked.normalized, thought


CHECKED = "workit.checked_form"  # where checked_form keeps its answer, in the request's WSGI environ


def checked_form() -> tuple[str, str]:
    """This request's form, cleaned (clean_form) once, however many ask: the check for a form sent
    before, the limit per recipient (twice: its key, and whether it applies) and the view."""
    found = request.environ.get(CHECKED)
    if found is None:
        try:
            found = clean_form(request.form.get("mailers[email]", ""), request.form.get("mailers[thought]", ""))
        except InvalidForm as problem:
            found = problem
        request.environ[CHECKED] = found
    if isinstance(found, InvalidForm):
        raise InvalidForm(str(found))
    return found
