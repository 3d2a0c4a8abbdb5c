"""The pages: the form, the endpoint it posts to, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

# TODO(04_enqueue): the view should use the Celery task, not this function: import
# send_randomness_email from workit.tasks instead, and InvalidForm, clean_form from
# workit.validation.
from workit.notifier import send_randomness_email

bp = Blueprint("mailers", __name__)

MISSING_FIELDS = "Please give us both an email address and a thought."


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.post("/mailers")
def create() -> Response | tuple[str, int]:
    email = request.form.get("mailers[email]", "").strip()
    thought = request.form.get("mailers[thought]", "").strip()
    if not email or not thought:
        return render_template("index.html", error=MISSING_FIELDS, email=email, thought=thought), 400
    # TODO(04_enqueue): two changes, then delete the `raise` below.
    # 1. Check the form with clean_form(email, thought) (workit/validation.py), which also does
    #    the check above. On InvalidForm, answer like above: index.html with error=str(problem)
    #    and the user's values, status 400. Nothing is queued for a form that cannot work.
    # 2. Queue the email instead of sending it: send_randomness_email.delay(email, thought),
    #    the task of workit/tasks.py, with the two cleaned strings, in that order. No call to
    #    the notifier here: the worker sends it. Keep the flash and the redirect below.
    raise NotImplementedError(
        "Step 04_enqueue: in POST /mailers (workit/views.py), check the form with clean_form, "
        "then queue send_randomness_email.delay(email, thought) instead of sending the email. "
        "See stages/04_enqueue/README.md"
    )
    flash(f"You did it! Email sent to {email}")
    return redirect(url_for("mailers.sent"), code=303)


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")
