"""Task 3: retention. A final request older than RETENTION_DAYS loses its address, thought and
GIF; nothing else is touched, a second run changes nothing, and one run does a batch at most.
The request's page still answers, and says it has expired."""

from __future__ import annotations

import json

import pytest

EMAIL, THOUGHT = "buster@example.com", "I'm a monster"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
STATUSES = ("queued", "looking_up", "ready", "sending", "sent", "failed")
SCRUBBED = {"email": None, "thought": None, "gif_url": None}
TASK_3 = "README, task 3: expire_old_requests() in workit/maintenance.py"
TASK_3_PAGE = "README, task 3: the status page, GET /mailers/<id> in workit/views.py"


def a_row_in_every_state(db, ago) -> dict[tuple[str, str], str]:
    made = {}
    for status in STATUSES:
        for age, days in (("old", 40), ("young", 1)):
            when = ago(days=days)
            made[status, age] = db.add(status=status, gif_url=GIF, created_at=when, updated_at=when)
    made["sent", "expired"] = db.add(
        email=None, thought=None, status="sent", created_at=ago(days=50), updated_at=ago(days=19), expired_at=ago(days=19)
    )
    return made


def test_only_old_final_requests_lose_their_personal_data(database, maintenance, ago):
    db = database()
    made = a_row_in_every_state(db, ago)
    before = {row["id"]: row for row in db.rows()}

    result = maintenance("expire_old_requests")

    after = {row["id"]: row for row in db.rows()}
    wiped = sorted(key for key, request_id in made.items() if after[request_id] != before[request_id])
    assert result.state == "SUCCESS" and wiped == [("failed", "old"), ("sent", "old")], (
        f"the retention run ({result.state}) changed the requests {wiped}; expected only the sent and the "
        f"failed one older than RETENTION_DAYS (30): a request in flight is still being read by a job, and a "
        f"young one is kept. {TASK_3}."
    )
    for key in wiped:
        row = after[made[key]]
        assert {name: row[name] for name in SCRUBBED} == SCRUBBED and row["expired_at"], (
            f"the old {key[0]} request is now {row}; expected email, thought and gif_url None (the GIF was "
            f"found from the thought, so it tells it) and expired_at set. {TASK_3}."
        )
        assert (row["status"], row["created_at"]) == (before[made[key]]["status"], before[made[key]]["created_at"]), row


def test_a_second_run_changes_nothing(database, maintenance, ago):
    db = database()
    a_row_in_every_state(db, ago)
    first = maintenance("expire_old_requests")
    once = db.rows()
    assert first.state == "SUCCESS", f"the first run ended {first.state}: {first.result!r}"

    maintenance("expire_old_requests")

    assert db.rows() == once, (
        "a second retention run changed rows the first had done (expired_at or updated_at again?): "
        f"{[row for row in db.rows() if row not in once]}. {TASK_3}: an expired request is done with."
    )


def test_one_run_wipes_a_batch_at_most_oldest_first(app, database, maintenance, ago):
    db = database()
    app.config["MAINTENANCE_BATCH"] = 3
    made = [db.add(status="sent", created_at=ago(days=40 + n), updated_at=ago(days=40)) for n in range(7)]

    maintenance("expire_old_requests")

    wiped = [n for n, request_id in enumerate(made) if db.row(request_id)["expired_at"]]
    assert wiped == [4, 5, 6], (
        f"with MAINTENANCE_BATCH=3 and 7 old requests (0 the youngest, 6 the oldest), one run wiped {wiped}; "
        f"expected the 3 oldest, [4, 5, 6]: a run's work is bounded, and the oldest go first. {TASK_3}."
    )


@pytest.mark.parametrize(("age", "expected"), [(10, True), (5, False)])
def test_retention_days_comes_from_the_config(app, database, maintenance, ago, age, expected):
    db = database()
    app.config["RETENTION_DAYS"] = 7
    request_id = db.add(status="sent", created_at=ago(days=age), updated_at=ago(days=age))

    result = maintenance("expire_old_requests")

    assert result.state == "SUCCESS", f"the retention run ended {result.state}: {result.result!r}"

    assert bool(db.row(request_id)["expired_at"]) is expected, (
        f"with RETENTION_DAYS=7, a request sent {age} days ago was {'wiped' if not expected else 'kept'}; "
        f"expected it {'wiped' if expected else 'kept'}. {TASK_3}."
    )


def test_the_page_of_an_expired_request_says_so(client, database, maintenance, ago):
    from workit.models import EXPIRED_WORDS

    db = database()
    request_id = db.add(status="sent", gif_url=GIF, created_at=ago(days=40), updated_at=ago(days=40))
    maintenance("expire_old_requests")

    page = client.get(f"/mailers/{request_id}")
    answer = client.get(f"/mailers/{request_id}", headers={"Accept": "application/json"})

    text = page.get_data(as_text=True)
    assert page.status_code == 200 and EXPIRED_WORDS in text, (
        f"the page of an expired request answered {page.status_code}; expected 200 saying it has expired "
        f"(a 404 would make the user's link look like a typo). {TASK_3_PAGE}: EXPIRED_WORDS."
    )
    assert EMAIL not in text and THOUGHT not in text and "None" not in text, (
        f"the page of an expired request shows the address, the thought or 'None': {text[:400]!r}. {TASK_3_PAGE}."
    )
    body = answer.get_json()
    assert body.get("expired") is True and body.get("done") is True and body.get("words") == EXPIRED_WORDS, (
        f"the JSON of an expired request is {body}; expected expired: true, done: true and words saying it "
        f"has expired. {TASK_3_PAGE}."
    )
    assert EMAIL not in json.dumps(body) and "email" not in body, f"the JSON of an expired request holds {body}"
