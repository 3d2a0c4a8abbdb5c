"""The pages: the form, the endpoint it posts to, and each request's status page."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from kombu.exceptions import OperationalError
from limits.errors import StorageError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from workit.db import db
from workit.limits import limit_mailers, seconds_to_wait
from workit.models import FINAL, STATUS_WORDS, MailerRequest
from workit.tasks import look_up_gif
from workit.validation import (
    FORM_EXPIRED,
    FORM_TOO_BIG,
    LIMITS_UNAVAILABLE,
    MULTIPART,
    NOT_UTF8,
    QUEUE_UNAVAILABLE,
    URLENCODED,
    InvalidForm,
    checked_form,
    is_utf8_form,
)

bp = Blueprint("mailers", __name__)

RETRY_AFTER = "60"  # seconds, in the Retry-After header of the 503 page
SENT_BEFORE = "You sent this form already: here is its email."

# Each form carries a submission id, made when the page is rendered and kept when the form is
# shown again. The job's task id is derived from it and from what was typed, so a form sent
# twice (after a 503 whose message did reach Redis, a double click, the back button) is one job
# id twice: one request's row (its task id is unique), one email.
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


@bp.post("/mailers")
@limit_mailers  # per client and per recipient (workit/limits.py): over a limit, too_many below
def create() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    submission = submission_of(request.form)
    try:
        email, thought = checked_form()  # cleaned once per request (workit/validation.py)
    except InvalidForm as problem:
        # The form again, with what the user typed (Jinja escapes it) and what to fix.
        return form_page(str(problem), email, thought, submission), 400
    # The request is a row first, committed: a worker that takes the job a millisecond later,
    # on its own connection, must find it. Only then the job, and it carries the id alone: the
    # address and the thought stay in the database, out of Redis and out of the logs.
    record = MailerRequest(email=email, thought=thought, task_id=task_id_for(submission, email, thought))
    db.session.add(record)
    db.session.flush()  # the INSERT: the row has its id now
    # Read it before the commit, which expires the record: after it, record.id is a SELECT.
    request_id = record.id
    db.session.commit()
    try:
        look_up_gif.apply_async((request_id,), task_id=task_id_for(submission, email, thought))
    except OperationalError as problem:
        # Redis refused, or did not answer in time (see workit/celery_app.py). The row must not
        # say "queued" for a job that may never be: take it back. If the message did reach
        # Redis after all (a timeout proves nothing), its worker finds no row and drops it, and
        # the form sent again is the one email. Say so, keep the form filled in, and log one
        # line: no traceback for the user.
        db.session.delete(record)
        db.session.commit()
        current_app.logger.warning("could not queue request %s: Redis is not answering (%s)", request_id, problem)
        return form_page(QUEUE_UNAVAILABLE, email, thought, submission), 503, {"Retry-After": RETRY_AFTER}
    flash(f"Queued: your email to {email} is on its way to a worker.")
    return redirect(url_for("mailers.status", request_id=request_id), code=303)


@bp.get("/mailers/<request_id>")
def status(request_id: str) -> Response | tuple[dict[str, object], int, dict[str, str]] | str:
    record = db.session.get(MailerRequest, request_id)
    if record is None:
        abort(404)
    done = record.status in FINAL
    # TODO(08_schedule), task 3: an expired request (expired_at set) says so, in its words and in the JSON.
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


# The same form sent twice (a double click, the back button) is one request: its row's task_id
# is unique. Sent again later, it lands on the first request's page before any limit counts it;
# sent at the same moment, its commit breaks the unique task_id, and it lands there too.
# The query is built once: built in each request, it costs its construction and SQLAlchemy's
# cache key for it (which a statement object keeps) every time, about as much as running it.
EARLIER = db.select(MailerRequest).where(MailerRequest.task_id == db.bindparam("task_id"))


def earlier_request() -> MailerRequest | None:
    """The request that this very form (submission id, email, thought) made before, if any."""
    try:
        email, thought = checked_form()
    except InvalidForm:
        return None
    task_id = task_id_for(submission_of(request.form), email, thought)
    return db.session.scalar(EARLIER, {"task_id": task_id})


def to_earlier(earlier: MailerRequest) -> Response:
    flash(SENT_BEFORE)
    return redirect(url_for("mailers.status", request_id=earlier.id), code=303)


@bp.before_request
def land_repeats_on_their_page() -> Response | None:
    if request.endpoint != "mailers.create":
        return None
    earlier = earlier_request()
    return None if earlier is None else to_earlier(earlier)


@bp.errorhandler(IntegrityError)
def sent_at_the_same_moment(error: IntegrityError) -> Response:
    db.session.rollback()
    earlier = earlier_request() if request.endpoint == "mailers.create" else None
    if earlier is None:
        raise error
    return to_earlier(earlier)


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


@bp.app_errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    # Over a limit (workit/limits.py): nothing is written or queued. The form again, filled in,
    # with the wait; the wait in Retry-After too.
    wait = seconds_to_wait()
    when = f"{wait} seconds" if wait < 120 else f"{math.ceil(wait / 60)} minutes"
    message = f"{error.description} Please wait {when}, then send it again."
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    return form_page(message, email, thought, submission_of(request.form)), 429, {"Retry-After": str(wait)}


@bp.app_errorhandler(StorageError)
def limits_unavailable(error: StorageError) -> tuple[str, int, dict[str, str]]:
    # Redis down or hung under the limits: they fail closed (see workit/limits.py), before
    # anything is written or queued. One log line, no traceback, no address.
    current_app.logger.warning("could not check the sending limits: Redis is not answering (%s)", type(error.storage_error).__name__)
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    return form_page(LIMITS_UNAVAILABLE, email, thought, submission_of(request.form)), 503, {"Retry-After": RETRY_AFTER}
