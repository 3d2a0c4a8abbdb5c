"""Incident 6: at noon Giphy was slow, and the whole site with it: every page took 30 s, then the
proxy answered 502. A real worker reads the queue `giphy`, here in the test process, and Giphy
holds its answer; meanwhile someone sends the form."""

from __future__ import annotations

import threading

import pytest

INCIDENT_6 = "README, incident 6 (https://docs.celeryq.dev/en/stable/userguide/tasks.html#avoid-launching-synchronous-subtasks)"
FORM = {"mailers[email]": "buster@example.com", "mailers[thought]": "I'm a monster"}


@pytest.mark.timeout(90)
def test_incident_6_the_form_answers_while_giphy_is_slow(app, celery_of, client, database, worker_on, slow_giphy):
    celery = celery_of(app)
    db = database()
    slow_giphy.held = {FORM["mailers[thought]"]}
    answers: list = []
    answered = threading.Event()

    def send_the_form():
        try:
            answers.append(client.post("/mailers", data=FORM))
        except Exception as error:  # noqa: BLE001 - the test reports it below
            answers.append(error)
        answered.set()

    with worker_on(celery, ["giphy"], name="giphy"):
        sender = threading.Thread(target=send_the_form, daemon=True)
        sender.start()
        assert slow_giphy.wait_started([], timeout=20), f"the form's lookup never reached Giphy. {INCIDENT_6}."
        in_time = answered.wait(20)
        slow_giphy.release()
        sender.join(40)

    assert in_time, (
        "Giphy held its answer, and the form's request was still waiting 20 s later: the page waits for the "
        "worker, the worker for Giphy. Every web process that takes a form is stuck the same way, and once all "
        f"are, the site answers nobody. {INCIDENT_6}."
    )
    answer = answers[0]
    assert not isinstance(answer, Exception) and answer.status_code == 303, (
        f"the form, sent while Giphy was slow, answered {answer!r}"
        f"{'' if isinstance(answer, Exception) else ': ' + answer.get_data(as_text=True)[:300]}; expected 303 to the "
        f"request's status page, which says how far its jobs have got. {INCIDENT_6}."
    )
    rows = db.rows()
    assert len(rows) == 1 and answer.headers["Location"].endswith(f"/mailers/{rows[0]['id']}"), (
        f"the form answered 303 to {answer.headers.get('Location')!r}; expected the status page of its request "
        f"({[row['id'] for row in rows]}). {INCIDENT_6}."
    )


@pytest.mark.timeout(30)
def test_incident_6_the_form_never_waits_on_a_job(app, celery_of, client, database, monkeypatch):
    """No worker runs: the form must answer all the same, and must not ask for any job's result.
    Waiting on a result that returns at once (a task that keeps none) is still a request that
    waits on a job: give the job its result back, and the site is slow again at the next noon."""
    from celery.result import AsyncResult

    celery_of(app)
    db = database()
    asked: list[str] = []

    def waiting(method: str):
        def spy(self, *args, **kwargs):
            asked.append(f"{method}() on job {self.id}")

        return spy

    for method in ("get", "wait", "ready", "state", "status"):
        original = getattr(AsyncResult, method)
        monkeypatch.setattr(AsyncResult, method, property(waiting(method)) if isinstance(original, property) else waiting(method))
    answer = client.post("/mailers", data=FORM)

    assert not asked, (
        f"sending the form asked about its job's result: {asked}. Whether that returns at once (a task that keeps "
        "no result) or waits, the request now depends on a worker being done: the day results are kept, or a "
        f"worker is slow, every page waits as at noon. The status page reads the request's row. {INCIDENT_6}."
    )
    assert answer.status_code == 303 and len(db.rows()) == 1, (
        f"with no worker running, the form answered {answer.status_code}: "
        f"{answer.get_data(as_text=True)[:300]}; expected 303 and its request saved. {INCIDENT_6}."
    )
