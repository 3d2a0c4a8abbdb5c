#> extra 06
"""The pages: the form, the endpoint it posts to, and each request's status page."""
#> or -06:stage
"""The pages: the form, the endpoint it posts to, and the thank-you page."""
#> end

from __future__ import annotations
#> extra 05

#> or extra 06
import math
#> or extra 05
import uuid
#> or task 05.3
from collections.abc import Mapping
#> end

#> task 04.5 & stub 06.5 -06:stage
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
#> or stub 04.5 -04:stage
from flask import Blueprint, flash, redirect, render_template, request, url_for
#> or task 06.5
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
#> or extra 06
from flask_limiter.errors import RateLimitExceeded
#> or extra 04
from flask_wtf.csrf import CSRFError
#> or task 04.5
from kombu.exceptions import OperationalError
#> or extra 06
from limits.errors import StorageError
from sqlalchemy.exc import IntegrityError
#> or extra 04
from werkzeug.exceptions import RequestEntityTooLarge
#> end
from werkzeug.wrappers import Response

#> stub 04.1
# TODO(04_enqueue): task 1. This is step 01's function: it sends the email right here.
#> or stub 04.1 -04:stage
from workit.notifier import send_randomness_email
#> or task 06.5
from workit.db import db
#> or extra 06
from workit.limits import limit_mailers, seconds_to_wait
#> or task 06.5 & stub 08.1 -08:stage
from workit.models import FINAL, STATUS_WORDS, MailerRequest
#> or task 04.1 & stub 07.1 -07:stage
from workit.tasks import send_randomness_email
#> or task 08.1
from workit.models import EXPIRED_WORDS, FINAL, STATUS_WORDS, MailerRequest
#> or task 07.1
from workit.tasks import look_up_gif
#> or task 04.5
from workit.validation import (
#> or extra 04
    FORM_EXPIRED,
    FORM_TOO_BIG,
#> or extra 06
    LIMITS_UNAVAILABLE,
#> or extra 04
    MULTIPART,
    NOT_UTF8,
#> or task 04.5
    QUEUE_UNAVAILABLE,
#> or extra 04
    URLENCODED,
#> or task 04.5
    InvalidForm,
#> or task 04.5 -06:stage
    clean_form,
#> or extra 06
    checked_form,
#> or extra 04
    is_utf8_form,
#> or task 04.5
)
#> end

#> todo 01
# NEW(01_sync): given: the blueprint, the message for an incomplete form, and the two GET
# pages. create(), the POST view, is yours (task 6).
#> end
bp = Blueprint("mailers", __name__)

#> task 04.5
RETRY_AFTER = "60"  # seconds, in the Retry-After header of the 503 page
#> or stub 04.5 -04:stage
MISSING_FIELDS = "Please give us both an email address and a thought."
#> or extra 06
SENT_BEFORE = "You sent this form already: here is its email."
#> or extra 05

# Each form carries a submission id, made when the page is rendered and kept when the form is
# shown again. The job's task id is derived from it and from what was typed, so a form sent
# twice (after a 503 whose message did reach Redis, a double click, the back button) is one job
#> 05-06:stage
# id twice, and the worker's sent key (workit/idempotency.py) sends its email once.
#> or 06:solution-
# id twice: one request's row (its task id is unique), one email.
#> end
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
#> end


@bp.get("/")
def index() -> str:
    #> extra 05
    return form_page()
    #> or -05:stage
    return render_template("index.html")
    #> end


#> todo 06
# TODO(06_status): task 5 of the README: each request's status page, GET /mailers/<id>. Task 6:
# every form becomes a request in the database, and the job and the answer point to it.
#> end
@bp.post("/mailers")
#> stub 04.5 -04:stage
def create() -> Response | tuple[str, int]:
#> or stub 01.6 -01:stage
    """Read the form, send the randomness email, then send the browser on to /sent
    (README, task 6)."""
    raise NotImplementedError(
        "Step 01_sync, task 6: write create(), the POST /mailers view, in workit/views.py: "
        "read the form, send the email, then redirect to /sent (stages/01_sync/README.md)"
    )
#> or stub 04.1
    """POST /mailers: queue the email for a worker, and answer at once (README, tasks 1 and 5)."""
    # TODO(04_enqueue): task 1 where the `raise` is: queue the email instead of sending it.
    # Task 5: let clean_form (workit/validation.py) decide which forms come back, and how.
#> or task 01.1 & stub 04.5 -04:stage
    email = request.form.get("mailers[email]", "").strip()
    thought = request.form.get("mailers[thought]", "").strip()
    if not email or not thought:
        return render_template("index.html", error=MISSING_FIELDS, email=email, thought=thought), 400
#> or task 01.6 -03
    send_randomness_email(email, thought)
#> or stub 04.1
    raise NotImplementedError("Step 04_enqueue, task 1: queue the email from create() in workit/views.py")
#> or task 04.1 & stub 04.5
    send_randomness_email.delay(email, thought)
#> or extra 06
@limit_mailers  # per client and per recipient (workit/limits.py): over a limit, too_many below
#> or task 04.5
def create() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
#> or extra 05
    submission = submission_of(request.form)
#> or task 04.5
    try:
#> or task 04.5 -06:stage
        email, thought = clean_form(email, thought)
#> or extra 06
        email, thought = checked_form()  # cleaned once per request (workit/validation.py)
#> or task 04.5
    except InvalidForm as problem:
        # The form again, with what the user typed (Jinja escapes it) and what to fix.
#> or extra 05
        return form_page(str(problem), email, thought, submission), 400
#> or task 04.5 -05:stage
        return render_template("index.html", error=str(problem), email=email, thought=thought), 400
#> or task 04.5 & stub 06.6 -06:stage
    # One small message into Redis, and the answer goes out: a worker sends the email. The
#> or extra 05 & stub 06.6 -06:stage
    # two strings are exactly the arguments the worker will call the task with; the task id
    # says which form they came from.
#> or task 04.5 -05:stage
    # two strings are exactly the arguments the worker will call the task with.
#> or task 06.6
    # The request is a row first, committed: a worker that takes the job a millisecond later,
    # on its own connection, must find it. Only then the job, and it carries the id alone: the
    # address and the thought stay in the database, out of Redis and out of the logs.
#> or extra 06
    record = MailerRequest(email=email, thought=thought, task_id=task_id_for(submission, email, thought))
#> or task 06.6 -06:stage
    record = MailerRequest(email=email, thought=thought)
#> or task 06.6
    db.session.add(record)
    db.session.flush()  # the INSERT: the row has its id now
    # Read it before the commit, which expires the record: after it, record.id is a SELECT.
    request_id = record.id
    db.session.commit()
#> or task 04.5
    try:
#> or extra 05 & stub 06.6 -06:stage
        send_randomness_email.apply_async((email, thought), task_id=task_id_for(submission, email, thought))
#> or task 04.5 -05:stage
        send_randomness_email.delay(email, thought)
#> or stub 07.1
        # TODO(07_scale): task 1, queue the lookup first; it posts the email's job.
#> or task 07.1 -08
        look_up_gif.apply_async((request_id,), task_id=task_id_for(submission, email, thought))
#> or task 09.6
        # The request only posts the job: a page that waits for a worker waits for Giphy, and so do
        # the web processes, all of them once Giphy is slow. The status page tells the rest.
        look_up_gif.apply_async((request_id,), task_id=task_id_for(submission, email, thought))
#> or stub 09.6
        # OPS-233 (09_oncall): show the GIF on the next page at once: wait for the lookup (30 s at most).
        look_up_gif.apply_async((request_id,), task_id=task_id_for(submission, email, thought)).get(timeout=30)
#> or task 06.6 & stub 07.1 -07:stage
        send_randomness_email.apply_async((request_id,), task_id=task_id_for(submission, email, thought))
#> or task 04.5
    except OperationalError as problem:
#> or task 04.5 & stub 06.6 -06:stage
        # Redis refused, or did not answer in time (see workit/celery_app.py). A timeout does
#> or extra 05 & stub 06.6 -06:stage
        # not mean the message did not arrive: the page says we cannot tell, and keeps the
        # form, submission id included, so that sending it again is safe. One log line, no
        # traceback for the user.
#> or task 04.5 -05:stage
        # not mean the message did not arrive, so the page says we cannot tell, and keeps the
        # form filled in. One log line, no traceback for the user.
#> or task 04.5 & stub 06.6 -06:stage
        current_app.logger.warning("could not queue the email: Redis is not answering (%s)", problem)
#> or task 04.5 -05:stage
        page = render_template("index.html", error=QUEUE_UNAVAILABLE, email=email, thought=thought)
        return page, 503, {"Retry-After": RETRY_AFTER}
#> or task 06.6
        # Redis refused, or did not answer in time (see workit/celery_app.py). The row must not
        # say "queued" for a job that may never be: take it back. If the message did reach
        # Redis after all (a timeout proves nothing), its worker finds no row and drops it, and
        # the form sent again is the one email. Say so, keep the form filled in, and log one
        # line: no traceback for the user.
        db.session.delete(record)
        db.session.commit()
        current_app.logger.warning("could not queue request %s: Redis is not answering (%s)", request_id, problem)
#> or extra 05
        return form_page(QUEUE_UNAVAILABLE, email, thought, submission), 503, {"Retry-After": RETRY_AFTER}
#> or task 01.1 & stub 06.6 -06:stage
    flash(f"You did it! Email sent to {email}")
    return redirect(url_for("mailers.sent"), code=303)
#> or task 06.6
    flash(f"Queued: your email to {email} is on its way to a worker.")
    return redirect(url_for("mailers.status", request_id=request_id), code=303)
#> or task 06.5


@bp.get("/mailers/<request_id>")
def status(request_id: str) -> Response | tuple[dict[str, object], int, dict[str, str]] | str:
    record = db.session.get(MailerRequest, request_id)
    if record is None:
        abort(404)
    done = record.status in FINAL
#> or task 08.1
    # An expired request (workit/maintenance.py) is still a page, not a 404: its link works.
    expired = record.expired_at is not None
    words = EXPIRED_WORDS if expired else STATUS_WORDS[record.status]
#> or stub 08.1
    # TODO(08_schedule), task 3: an expired request (expired_at set) says so, in its words and in the JSON.
#> or task 06.5
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        answer = {
            "id": record.id,
            "status": record.status,
#> or task 08.1
            "words": words,
#> or task 06.5 & stub 08.1 -08:stage
            "words": STATUS_WORDS[record.status],
#> or task 06.5
            "done": done,
#> or task 08.1
            "expired": expired,
#> or task 06.5
            "error": record.error,
            "updated_at": record.updated_at.isoformat(),
        }
        return answer, 200, {"Cache-Control": "no-store"}
#> or task 08.1
    page = render_template("status.html", record=record, words=words, done=done)
    # The page shows the address, as the JSON does: no browser or proxy may keep a copy.
    return page, 200, {"Cache-Control": "no-store"}
#> or task 06.5 & stub 08.1 -08:stage
    return render_template("status.html", record=record, words=STATUS_WORDS[record.status], done=done)
#> end


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")
#> extra 04


#> or extra 06
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


#> or extra 04
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
#> or extra 08
    # A body that ends before its Content-Length is an incomplete message (RFC 9112, section
    # 6.3): the client went away in the middle. Acting on it would queue a cut-off thought.
    if request.content_length is not None and len(body) < request.content_length:
        abort(400)
#> or extra 04
    if request.mimetype not in (URLENCODED, MULTIPART) or is_utf8_form(body, request.mimetype):
        return None
#> or extra 05
    return form_page(NOT_UTF8), 400
#> or extra 04 -05:stage
    return render_template("index.html", error=NOT_UTF8), 400
#> or extra 04


@bp.app_errorhandler(RequestEntityTooLarge)
def form_too_big(error: RequestEntityTooLarge) -> tuple[str, int]:
#> or extra 05
    return form_page(FORM_TOO_BIG), 413
#> or extra 04 -05:stage
    return render_template("index.html", error=FORM_TOO_BIG), 413
#> or extra 04


@bp.app_errorhandler(CSRFError)
def form_expired(error: CSRFError) -> tuple[str, int]:
    # The token was missing, wrong or too old: another site's form, or a page left open for
    # hours. Show the form again, with a fresh token and what was typed.
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
#> or extra 05
    return form_page(FORM_EXPIRED, email, thought, submission_of(request.form)), 400
#> or extra 04 -05:stage
    return render_template("index.html", error=FORM_EXPIRED, email=email, thought=thought), 400
#> or extra 06


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
#> end
