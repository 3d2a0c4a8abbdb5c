"""The pages: the form, the endpoint it posts to, and each request's status page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from kombu.exceptions import OperationalError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from workit.db import db
from workit.models import FINAL, STATUS_WORDS, MailerRequest
from workit.tasks import send_randomness_email
from workit.validation import (
    FORM_EXPIRED,
    FORM_TOO_BIG,
    NOT_UTF8,
    QUEUE_UNAVAILABLE,
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
    # The request is a row first, committed: a worker that takes the job a millisecond later,
    # on its own connection, must find it. Only then the job, and it carries the id alone: the
    # address and the thought stay in the database, out of Redis and out of the logs.
    record = MailerRequest(email=email, thought=thought)
    db.session.add(record)
    db.session.commit()
    try:
        send_randomness_email.delay(record.id)
    except OperationalError as problem:
        # Redis refused, or did not answer in time (see workit/celery_app.py). The row must not
        # say "queued" for a job that may never be: take it back. If the message did reach
        # Redis after all (a timeout proves nothing), its worker finds no row and drops it, and
        # the form sent again is the one email. Say so, keep the form filled in, and log one
        # line: no traceback for the user.
        db.session.delete(record)
        db.session.commit()
        current_app.logger.warning("could not queue request %s: Redis is not answering (%s)", record.id, problem)
        page = render_template("index.html", error=QUEUE_UNAVAILABLE, email=email, thought=thought)
        return page, 503, {"Retry-After": RETRY_AFTER}
    flash(f"Queued: your email to {email} is on its way to a worker.")
    return redirect(url_for("mailers.status", request_id=record.id), code=303)


@bp.get("/mailers/<request_id>")
def status(request_id: str) -> Response | tuple[dict[str, object], int, dict[str, str]] | str:
    record = db.session.get(MailerRequest, request_id)
    if record is None:
        abort(404)
    done = record.status in FINAL
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        answer = {
            "id": record.id,
            "status": record.status,
            "words": STATUS_WORDS[record.status],
            "done": done,
            "error": record.error,
            "updated_at": record.updated_at.isoformat(),
        }
        return answer, 200, {"Cache-Control": "no-store"}
    return render_template("status.html", record=record, words=STATUS_WORDS[record.status], done=done)


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")


# Requests that never reach create(): each one gets the form back with a message, not a bare
# error page.


@bp.before_app_request
def refuse_unreadable_forms() -> tuple[str, int] | None:
    """A form whose bytes are not UTF-8 is refused before anything reads it (CSRF included)."""
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return None
    # cache=True: the form is parsed from these bytes afterwards. A body over
    # MAX_CONTENT_LENGTH raises RequestEntityTooLarge here (see form_too_big).
    if is_utf8_form(request.get_data(cache=True)):
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
