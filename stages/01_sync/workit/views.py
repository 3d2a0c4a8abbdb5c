"""The pages: the form, the endpoint it posts to, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from workit.notifier import send_randomness_email

bp = Blueprint("mailers", __name__)

MISSING_FIELDS = "Please give us both an email address and a thought."


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.post("/mailers")
def create() -> Response | tuple[str, int]:
    """Send the randomness email for the submitted form, then send the browser to /sent.

    TODO (step 01_sync):
    - read the fields `mailers[email]` and `mailers[thought]` from `request.form`;
    - if either is missing or blank: render "index.html" with error=MISSING_FIELDS and
      status 400, and send nothing;
    - otherwise call `send_randomness_email(email, thought)`,
      flash "You did it! Email sent to <email>" and redirect to the `mailers.sent` page.
    """
    raise NotImplementedError(
        "Step 01_sync: write create() in workit/views.py: read the form, send the email, "
        "flash, redirect to /sent. See stages/01_sync/README.md"
    )


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")
