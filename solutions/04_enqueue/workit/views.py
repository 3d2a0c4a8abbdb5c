"""The pages: the form, the endpoint it posts to, and the thank-you page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from workit.tasks import send_randomness_email
from workit.validation import InvalidForm, clean_form

bp = Blueprint("mailers", __name__)


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.post("/mailers")
def create() -> Response | tuple[str, int]:
    email = request.form.get("mailers[email]", "")
    thought = request.form.get("mailers[thought]", "")
    try:
        email, thought = clean_form(email, thought)
    except InvalidForm as problem:
        # The form again, with what the user typed (Jinja escapes it) and what to fix.
        return render_template("index.html", error=str(problem), email=email, thought=thought), 400
    # One small message into Redis, and the answer goes out: a worker sends the email. The
    # two strings are exactly the arguments the worker will call the task with.
    send_randomness_email.delay(email, thought)
    flash(f"You did it! Email sent to {email}")
    return redirect(url_for("mailers.sent"), code=303)


@bp.get("/sent")
def sent() -> str:
    return render_template("sent.html")
