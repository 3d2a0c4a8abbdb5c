"""The pages: the form, the endpoint it posts to, and the thank-you page."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from kombu.exceptions import OperationalError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from workit.tasks import send_randomness_email
from workit.validation import (
    FORM_EXPIRED,
    FORM_TOO_BIG,
    MULTIPART,
    NOT_UTF8,
    QUEUE_UNAVAILABLE,
    URLENCODED,
    InvalidForm,
    clean_form,
    is_utf8_form,
)

bp = Blueprint("mailers", __name__)

RETRY_AFTER = "60"  # seconds, in the Retry-After header of the 503 page

# Each form carries a submission id, made when the page is rendered and kept when the form is
# shown again. The job's task id is derived from it and from what was typed, so a form sent
# twice (after a 503 whose message did reach Redis, a double click, the back button) is one job
# id twice, and the worker's sent key (workit/idempotency.py) sends its email once.
# Change the thought and it is another email, with another id.
SUBMISSION = "submission"
TASK_IDS = uuid.UUID("5b7f2c1e-93a4-4d0e-8c6b-1f0e6a2d9c47")  # the uuid5 namespace of task ids


def new_submission() -> str:
    return uuid.uuid4().hex


def submission_of(form: Mapping[str, str]) -> str:
    """The form's submission id if it is one of ours (32 hex digits), else a new one."""
    value = form.get(SUBMISSION, "")
    try:
        return uuid.UUID(hex=value).hex if len(value) == 32 else new_submission()
    except ValueError:
        return new_submission()


def task_id_for(submission: str, email: str, thought: str) -> str:
    # email and thought hold no line break (validation.py): the three join unambiguously.
    return str(uuid.uuid5(TASK_IDS, f"{submission}\n{email}\n{thought}"))


def form_page(error: str | None = None, email: str = "", thought: str = "", submission: str | None = None) -> str:
    """index.html: the form, with what the user typed and their submission id (or a new one)."""
    submission = submission or new_submission()
    return render_template("index.html", error=error, email=email, thought=thought, submission=submission)


@bp.get("/")
def index() -> str:
    return form_page()


# TODO(06_status): task 5 of the README: each request's status page, GET /mailers/<id>. Task 6:
# every form becomes a request in the database, and the job and the answer point to it.
@bp.post("/mailers")
def create() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    submission = submission_of(request.form)
    try:
        email, thought = clean_form(email, thought)
    except InvalidForm as problem:
        # The form again, with what the user typed (Jinja escapes it) and what to fix.
        return form_page(str(problem), email, thought, submission), 400
    # One small message into Redis, and the answer goes out: a worker sends the email. The
    # two strings are exactly the arguments the worker will call the task with; the task id
    # says which form they came from.
    try:
        send_randomness_email.apply_async((email, thought), task_id=task_id_for(submission, email, thought))
    except OperationalError as problem:
        # Redis refused, or did not answer in time (see workit/celery_app.py). A timeout does
        # not mean the message did not arrive: the page says we cannot tell, and keeps the
        # form, submission id included, so that sending it again is safe. One log line, no
        # traceback for the user.
        current_app.logger.warning("could not queue the email: Redis is not answering (%s)", problem)
        return form_page(QUEUE_UNAVAILABLE, email, thought, submission), 503, {"Retry-After": RETRY_AFTER}
    flash(f"You did it! Email sent to {email}")
    return redirect(url_for("mailers.sent"), code=303)


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")


# Requests that never reach create(): each one gets the form back with a message, not a bare
# error page.


@bp.before_app_request
def refuse_unreadable_forms() -> tuple[str, int] | None:
    """A body too big or not UTF-8 is refused before anything reads it (CSRF included)."""
    if request.method != "POST":
        return None
    # cache=True: the form is parsed from these bytes afterwards. A Content-Length over
    # MAX_CONTENT_LENGTH raises RequestEntityTooLarge here (see form_too_big).
    body = request.get_data(cache=True)
    # A chunked body has no Content-Length: Werkzeug reads it up to MAX_CONTENT_LENGTH and
    # quietly stops there, so a body that fills the limit may have been cut. Refuse it.
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(body) >= limit:
        raise RequestEntityTooLarge()
    if request.mimetype not in (URLENCODED, MULTIPART) or is_utf8_form(body, request.mimetype):
        return None
    return form_page(NOT_UTF8), 400


@bp.app_errorhandler(RequestEntityTooLarge)
def form_too_big(error: RequestEntityTooLarge) -> tuple[str, int]:
    return form_page(FORM_TOO_BIG), 413


@bp.app_errorhandler(CSRFError)
def form_expired(error: CSRFError) -> tuple[str, int]:
    # The token was missing, wrong or too old: another site's form, or a page left open for
    # hours. Show the form again, with a fresh token and what was typed.
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    return form_page(FORM_EXPIRED, email, thought, submission_of(request.form)), 400
