"""A mailer request: one form sent, its email and thought, and what became of its email.

The record is the truth about a request. The web app writes it (queued), the workers move it
on (looking up the GIF, ready for the email worker, sending, then sent or failed), and
the status page reads it. The id in the page's URL is
the only key to it, and the page shows an email address: so the id is long and random, never
a counter that anyone could count through.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from workit.db import db

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
LOOKING_UP = "looking_up"  # a giphy worker is finding the GIF
READY = "ready"  # the lookup is done (GIF or none): the request waits for an email worker
FINAL = (SENT, FAILED)  # the status will not change again: the page stops asking
IN_FLIGHT = (QUEUED, LOOKING_UP, READY, SENDING)  # NEW(08_schedule): a job has the request in hand, or should have
STATUS_WORDS = {
    QUEUED: "Queued: waiting for a worker to pick it up.",
    LOOKING_UP: "Looking up: a worker is finding your GIF.",
    READY: "Ready: waiting for a worker to send your email.",
    SENDING: "Sending: a worker is writing your email.",
    SENT: "Sent! Check your inbox.",
    FAILED: "Failed: we could not send it.",
}
# NEW(08_schedule): given. A final request whose personal data the retention job has wiped (workit/maintenance.py).
EXPIRED_WORDS = "Expired: this request is older than we keep them, so its details are gone."
# NEW(08_schedule): what a request says when the reconcile job gave up on it.
LOST_REQUEST = "We lost your request on the way and gave up after trying again."
ID_BYTES = 16  # 128 random bits


def new_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class MailerRequest(db.Model):
    __tablename__ = "mailer_requests"

    id = db.Column(db.String(32), primary_key=True, default=new_id)
    # NEW(08_schedule): both are wiped (None) once the request has expired: see expired_at.
    email = db.Column(db.String(254))
    thought = db.Column(db.String(200))
    status = db.Column(db.String(16), nullable=False, default=QUEUED)
    # Which form made it: its job's task id (views.task_id_for: the form's submission id and what
    # was typed). Unique, so the same form sent twice (a double click) is one request.
    task_id = db.Column(db.String(36), unique=True, index=True)
    gif_url = db.Column(db.String(500))
    error = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utc_now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utc_now, onupdate=utc_now)
    # NEW(08_schedule): when the reconcile job posted a lost request's job again (once at most), and when the
    # retention job wiped its address, thought and GIF. None until then.
    requeued_at = db.Column(db.DateTime(timezone=True))  # NEW(08_schedule)
    expired_at = db.Column(db.DateTime(timezone=True))  # NEW(08_schedule)
