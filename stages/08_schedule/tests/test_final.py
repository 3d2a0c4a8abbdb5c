"""Task 5: final is final. A late copy of a job (posted again by reconcile, handed out twice by
the broker) for a request that is sent, failed or expired does nothing, and ends well."""

from __future__ import annotations

import logging

import pytest

GIF = "https://media.giphy.com/media/kataMonster/200.gif"
EMAIL, THOUGHT = "buster@example.com", "I'm a monster"
TASK_5 = "README, task 5: the_request in workit/steps.py"
LATE = {
    "failed": {"status": "failed", "error": "We lost your request on the way and gave up after trying again."},
    "expired": {"status": "failed", "email": None, "thought": None, "expired_at": "ago"},
}


@pytest.mark.parametrize("task", ["look_up_gif", "send_randomness_email"])
@pytest.mark.parametrize("kind", sorted(LATE))
def test_a_late_job_for_a_final_request_does_nothing(kind, task, app, celery_of, database, giphy, inbox, queued, caplog, ago):
    import workit.tasks

    celery_of(app)
    db = database()
    giphy.search_finds(GIF)
    columns = {name: ago(days=1) if value == "ago" else value for name, value in LATE[kind].items()}
    request_id = db.add(**{"email": EMAIL, "thought": THOUGHT, "gif_url": GIF, **columns})
    before = db.row(request_id)

    # The steps' logger is a Celery task logger, which a worker started earlier in this process may
    # have stopped from propagating: listen on it directly.
    steps_logger = logging.getLogger("workit.steps")
    steps_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="workit.steps"):
            result = getattr(workit.tasks, task).apply((request_id,))
    finally:
        steps_logger.removeHandler(caplog.handler)

    assert result.state == "SUCCESS" and db.row(request_id) == before, (
        f"a late {task} job for a {kind} request ended {result.state} ({result.result!r}) and left the row "
        f"{db.row(request_id)}; expected SUCCESS and the row as it was: once the page says failed (or expired), "
        f"no job may touch the request. {TASK_5}."
    )
    assert not inbox.deliveries and queued() == {}, (
        f"a late {task} job for a {kind} request sent {len(inbox.deliveries)} email(s) and posted {queued()}; "
        f"expected nothing: once the page says failed (or expired), no email may follow. {TASK_5}."
    )
    said = [r.getMessage() for r in caplog.records if request_id in r.getMessage()]
    assert said and all(r.levelno == logging.INFO for r in caplog.records if request_id in r.getMessage()), (
        f"a late {task} job for a {kind} request logged {said}; expected a line at INFO naming the request. {TASK_5}."
    )
    status = LATE[kind]["status"]
    assert any(status in line for line in said), (
        f"a late {task} job for a {kind} request logged {said}; expected a line at INFO naming the request and "
        f"saying it is {status} already: whoever reads the log must tell a final request from a claim another job "
        f"holds. {TASK_5}."
    )
