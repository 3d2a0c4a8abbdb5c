"""The pages: the form, the endpoint it posts to, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

# TODO(04_enqueue): task 1. This is step 01's function: it sends the email right here.
from workit.notifier import send_randomness_email

bp = Blueprint("mailers", __name__)

MISSING_FIELDS = "Please give us both an email address and a thought."


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.post("/mailers")
def create() -> Response | tuple[str, int]:
    """POST /mailers: queue the email for a worker, and answer at once (README, tasks 1 and 5)."""
    # TODO(04_enqueue): task 1 where the `raise` is: queue the email instead of sending it.
    # Task 5: let clean_form (workit/validation.py) decide which forms come back, and how.
    email = request.form.get("mailers[email]", "").strip()
    thought = request.form.get("mailers[thought]", "").strip()
    if not email or not thought:
        return render_template("index.html", error=MISSING_FIELDS, email=email, thought=thought), 400
    raise NotImplementedError("Step 04_enqueue, task 1: queue the email from create() in workit/views.py")
    flash(f"You did it! Email sent to {email}")
    return redirect(url_for("mailers.sent"), code=303)


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")
