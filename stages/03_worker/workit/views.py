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
    email = request.form.get("mailers[email]", "").strip()
    thought = request.form.get("mailers[thought]", "").strip()
    if not email or not thought:
        return render_template("index.html", error=MISSING_FIELDS, email=email, thought=thought), 400
    send_randomness_email(email, thought)
    flash(f"You did it! Email sent to {email}")
    return redirect(url_for("mailers.sent"), code=303)


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")
