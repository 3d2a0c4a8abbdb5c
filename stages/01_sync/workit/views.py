"""The pages: the form, the endpoint it posts to, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from workit.notifier import send_randomness_email

# NEW(01_sync): given: the blueprint, the message for an incomplete form, and the two GET
# pages. create(), the POST view, is yours (task 6).
bp = Blueprint("mailers", __name__)

MISSING_FIELDS = "Please give us both an email address and a thought."


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.post("/mailers")
def create() -> Response | tuple[str, int]:
    """Read the form, send the randomness email, then send the browser on to /sent
    (README, task 6)."""
    raise NotImplementedError(
        "Step 01_sync, task 6: write create(), the POST /mailers view, in workit/views.py: "
        "read the form, send the email, then redirect to /sent (stages/01_sync/README.md)"
    )


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")
