"""The pages: the form, the endpoint it posts to, and the thank-you page."""

from __future__ import annotations

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


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.post("/mailers")
def create() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    try:
        email, thought = clean_form(email, thought)
    except InvalidForm as problem:
        # The form again, with what the user typed (Jinja escapes it) and what to fix.
        return render_template("index.html", error=str(problem), email=email, thought=thought), 400
    # One small message into Redis, and the answer goes out: a worker sends the email. The
    # two strings are exactly the arguments the worker will call the task with.
    try:
        send_randomness_email.delay(email, thought)
    except OperationalError as problem:
        # Redis refused, or did not answer in time (see workit/celery_app.py). A timeout does
        # not mean the message did not arrive, so the page says we cannot tell, and keeps the
        # form filled in. One log line, no traceback for the user.
        current_app.logger.warning("could not queue the email: Redis is not answering (%s)", problem)
        page = render_template("index.html", error=QUEUE_UNAVAILABLE, email=email, thought=thought)
        return page, 503, {"Retry-After": RETRY_AFTER}
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
    return render_template("index.html", error=NOT_UTF8), 400


@bp.app_errorhandler(RequestEntityTooLarge)
def form_too_big(error: RequestEntityTooLarge) -> tuple[str, int]:
    return render_template("index.html", error=FORM_TOO_BIG), 413


@bp.app_errorhandler(CSRFError)
def form_expired(error: CSRFError) -> tuple[str, int]:
    # The token was missing, wrong or too old: another site's form, or a page left open for
    # hours. Show the form again, with a fresh token and what was typed.
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    return render_template("index.html", error=FORM_EXPIRED, email=email, thought=thought), 400
