#> file 06-
"""A mailer request: one form sent, its email and thought, and what became of its email.

#> 06
The record is the truth about a request. The web app writes it (queued), the worker moves it
#> or extra 06 -06
on (sending, then sent or failed), and the status page reads it. The id in the page's URL is
#> or todo 06
on (sending, then sent or failed), and the status page reads it (README, task 2).
#> or 07-
The record is the truth about a request. The web app writes it (queued), the workers move it
on (looking up the GIF, ready for the email worker, sending, then sent or failed), and
the status page reads it. The id in the page's URL is
#> or extra 06
the only key to it, and the page shows an email address: so the id is long and random, never
a counter that anyone could count through.
#> or todo 07
NEW(07_scale): two workers now move a request, so it has one more status, LOOKING_UP.
#> end
"""

from __future__ import annotations

#> task 06.1
import secrets
from datetime import datetime, timezone
#> or extra 06

#> or task 06.1
from workit.db import db
#> or extra 06

#> or stub 06.1
# NEW(06_status): given. A request's statuses, and how the status page says them.
#> end
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
#> todo 07
# NEW(07_scale): the lookup's status, and the one after it: the GIF found, the request waits for the email.
#> or 07-
LOOKING_UP = "looking_up"  # a giphy worker is finding the GIF
READY = "ready"  # the lookup is done (GIF or none): the request waits for an email worker
#> end
FINAL = (SENT, FAILED)  # the status will not change again: the page stops asking
#> 08-
IN_FLIGHT = (QUEUED, LOOKING_UP, READY, SENDING)  # NEW(08_schedule): a job has the request in hand, or should have
#> end
STATUS_WORDS = {
    QUEUED: "Queued: waiting for a worker to pick it up.",
    #> 06
    SENDING: "Sending: a worker is finding your GIF and writing the email.",
    #> or todo 07
    # NEW(07_scale): the lookup's words, and sending's own.
    #> or 07-
    LOOKING_UP: "Looking up: a worker is finding your GIF.",
    READY: "Ready: waiting for a worker to send your email.",
    SENDING: "Sending: a worker is writing your email.",
    #> end
    SENT: "Sent! Check your inbox.",
    FAILED: "Failed: we could not send it.",
}
#> stub 06.2

# TODO(06_status): task 2 of the README: the MailerRequest model, with an id nobody can guess.
#> or 08-
# NEW(08_schedule): given. A final request whose personal data the retention job has wiped (workit/maintenance.py).
EXPIRED_WORDS = "Expired: this request is older than we keep them, so its details are gone."
# NEW(08_schedule): what a request says when the reconcile job gave up on it.
LOST_REQUEST = "We lost your request on the way and gave up after trying again."
#> or task 06.2
ID_BYTES = 16  # 128 random bits


def new_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class MailerRequest(db.Model):
    __tablename__ = "mailer_requests"

    id = db.Column(db.String(32), primary_key=True, default=new_id)
#> or task 06.2 -07
    email = db.Column(db.String(254), nullable=False)
    thought = db.Column(db.String(200), nullable=False)
#> or 08-
    # NEW(08_schedule): both are wiped (None) once the request has expired: see expired_at.
    email = db.Column(db.String(254))
    thought = db.Column(db.String(200))
#> or task 06.2
    status = db.Column(db.String(16), nullable=False, default=QUEUED)
#> or extra 06
    # Which form made it: its job's task id (views.task_id_for: the form's submission id and what
    # was typed). Unique, so the same form sent twice (a double click) is one request.
    task_id = db.Column(db.String(36), unique=True, index=True)
#> or task 06.2
    gif_url = db.Column(db.String(500))
    error = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utc_now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utc_now, onupdate=utc_now)
#> or 08-
    # NEW(08_schedule): when the reconcile job posted a lost request's job again (once at most), and when the
    # retention job wiped its address, thought and GIF. None until then.
    requeued_at = db.Column(db.DateTime(timezone=True))  # NEW(08_schedule)
    expired_at = db.Column(db.DateTime(timezone=True))  # NEW(08_schedule)
#> end
