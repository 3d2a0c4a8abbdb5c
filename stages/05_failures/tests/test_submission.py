"""Beyond step 05 (issue 12): a form sent twice is one job id twice. Runs with --solutions only.

When Redis hangs, .delay() times out and the page says 503, but the LPUSH may already be in the
socket: when Redis wakes up it runs, and the user, who sends the form again, would get two
emails. So each form carries a submission id, made when the page is rendered and kept when
the form comes back, and the job's task id is derived from it (and from what was typed). The
worker's sent key (workit/idempotency.py) then sends the email of a task id once
(test_resubmission.py).
"""

from __future__ import annotations

import pytest

from kata.page import read_page

pytestmark = pytest.mark.reference

EMAIL = "george@example.com"
THOUGHT = "there's always money in the banana stand"
SUBMISSION = "submission"


@pytest.fixture
def submit(client):
    def post(fields):
        response = client.post("/mailers", data=fields)
        response.close()
        return response

    return post


def submission_on(page_html: str) -> str | None:
    return read_page(page_html).values.get(SUBMISSION)


def form(submission: str | None, email: str = EMAIL, thought: str = THOUGHT) -> dict[str, str]:
    fields = {"mailers[email]": email, "mailers[thought]": thought}
    return {**fields, SUBMISSION: submission} if submission is not None else fields


def task_ids(broker) -> list[str]:
    return [message.id for message in broker.queued()]


def test_each_form_page_carries_its_own_submission_id(client):
    first, second = (submission_on(client.get("/").text) for _ in range(2))

    assert first and second and first != second, (
        f"GET / twice gave the submission ids {first!r} and {second!r}; expected a hidden "
        f"input named {SUBMISSION!r} holding a new id on each page."
    )


def test_the_same_form_sent_twice_is_one_task_id(client, submit, broker):
    submission = submission_on(client.get("/").text)

    answers = [submit(form(submission)).status_code for _ in range(2)]

    ids = task_ids(broker)
    assert answers == [303, 303] and len(ids) == 2 and ids[0] == ids[1], (
        f"the same form (submission {submission!r}) was sent twice: answers {answers}, task ids "
        f"{ids}; expected two messages with one task id, derived from the submission id, so "
        "that the worker sends its email once."
    )


def test_other_forms_or_other_words_are_other_task_ids(client, submit, broker):
    one, other = (submission_on(client.get("/").text) for _ in range(2))

    submit(form(one))
    submit(form(other))
    submit(form(one, thought="I've made a huge mistake"))  # the same page, the thought changed

    ids = task_ids(broker)
    assert len(set(ids)) == 3, (
        f"two pages, and the first sent again with another thought, gave the task ids {ids}; "
        "expected three different ones: only the very same form is the same email."
    )


@pytest.mark.parametrize(
    "forged", ["", "not-an-id", "../../x", "0" * 31, "g" * 32], ids=["empty", "word", "path", "short", "not-hex"]
)
def test_a_missing_or_odd_submission_id_still_queues_the_job(submit, broker, forged):
    first = submit(form(forged)).status_code
    again = submit(form(forged)).status_code

    ids = task_ids(broker)
    assert (first, again) == (303, 303) and len(set(ids)) == 2, (
        f"two forms with the submission id {forged!r} answered {first}, {again} and queued the "
        f"task ids {ids}; expected two jobs with two fresh ids: an id that is not ours is "
        "ignored, never trusted."
    )


def test_the_refused_form_keeps_its_submission_id(client, submit, broker):
    submission = submission_on(client.get("/").text)

    refused = submit(form(submission, email="not-an-email"))

    assert refused.status_code == 400 and submission_on(refused.text) == submission, (
        f"the form came back (400) with the submission id {submission_on(refused.text)!r}; "
        f"expected the one it was sent with, {submission!r}: it is the same form, fixed."
    )


def test_after_a_503_the_form_sent_again_is_the_same_job(client, submit, fake_redis, broker):
    submission = submission_on(client.get("/").text)
    fake_redis.go_down()
    down = submit(form(submission))
    fake_redis.come_back()
    kept = submission_on(down.text)
    submit(form(kept))
    submit(form(submission))  # and once more, as if the first had reached Redis after all

    ids = task_ids(broker)
    assert down.status_code == 503 and kept == submission, (
        f"with Redis down the form answered {down.status_code} and kept the submission id "
        f"{kept!r}; expected 503 and {submission!r}, so that sending it again is the same job."
    )
    assert len(ids) == 2 and ids[0] == ids[1], f"the form sent again after the 503 gave the task ids {ids}"
    shown = read_page(down.text).shown
    assert "nothing was sent" not in shown, (
        "the 503 page says nothing was sent, but a timeout does not tell whether the job reached "
        f"Redis: {shown!r}"
    )
