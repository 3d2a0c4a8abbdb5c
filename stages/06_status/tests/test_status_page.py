"""Task 5: GET /mailers/<id>: the request's status in words, as JSON too, and a page that polls."""

from __future__ import annotations

import pytest

EMAIL = "buster@example.com"
TASK_5 = "README, task 5: GET /mailers/<id> in workit/views.py, and templates/status.html"
ALL = ["queued", "sending", "sent", "failed"]


def words(status: str) -> str:
    from workit.models import STATUS_WORDS

    return STATUS_WORDS[status]


@pytest.mark.parametrize("status", ALL)
def test_the_page_says_the_status_in_words(client, database, status):
    db = database()
    request_id = db.add(status=status, error="The mail server said no." if status == "failed" else None)

    page = client.get(f"/mailers/{request_id}")

    text = page.get_data(as_text=True)
    assert page.status_code == 200, f"GET /mailers/<id> of a request answered {page.status_code}; expected 200. {TASK_5}."
    assert words(status) in text and EMAIL in text, (
        f"the status page of a request that is {status!r} does not say {words(status)!r} and the "
        "address it goes to. It reads the request's row, not the flash: the flash is said once, "
        "the row changes."
    )
    if status == "failed":
        assert "The mail server said no." in text, "the page of a failed request does not say why it failed."


@pytest.mark.parametrize("status", ALL)
def test_the_same_as_json_for_a_program(client, database, status):
    db = database()
    request_id = db.add(status=status)

    answer = client.get(f"/mailers/{request_id}", headers={"Accept": "application/json"})

    assert answer.status_code == 200 and answer.is_json, (
        f"GET /mailers/<id> with `Accept: application/json` answered {answer.status_code} "
        f"{answer.content_type!r}; expected 200 and JSON. {TASK_5}."
    )
    body = answer.get_json()
    expected = {"id": request_id, "status": status, "done": status in ("sent", "failed")}
    cache = answer.headers.get("Cache-Control", "")
    assert "no-store" in cache or "no-cache" in cache, (
        f"the JSON of a request came with Cache-Control {cache!r}: a browser or a proxy may keep "
        "it and answer the page's next poll from its copy, and the page never sees the status "
        f"move. {TASK_5}: the JSON is not to be cached (MDN, Cache-Control)."
    )
    assert {key: body.get(key) for key in expected} == expected, (
        f"the JSON of a {status!r} request is {body}; expected at least {expected}: `done` tells "
        "the page's script to stop asking."
    )


def test_what_the_user_typed_is_text_on_the_page(client, database):
    db = database()
    thought = '<script>alert("pwned")</script><b>bold</b>'
    request_id = db.add(thought=thought, status="failed", error="<i>The mail server said no.</i>")

    text = client.get(f"/mailers/{request_id}").get_data(as_text=True)

    assert "<script>alert" not in text and "<b>bold" not in text and "<i>The mail" not in text, (
        f"a request whose thought is {thought!r} has a status page that holds it as HTML: the "
        "browser runs the script of whoever typed it. The thought (and every value from the row) "
        f"is text on the page, escaped. {TASK_5}; Flask's templates: autoescaping."
    )


def status_code(client, path: str, **options) -> int | str:
    try:
        return client.get(path, **options).status_code
    except Exception as error:  # the test client raises what the view raised
        return f"an exception ({type(error).__name__}: {error})"


def test_an_unknown_id_is_404(client, database):
    database()

    answers = [status_code(client, path) for path in ("/mailers/1", "/mailers/kataNoSuchRequest0000000")]
    as_json = status_code(client, "/mailers/1", headers={"Accept": "application/json"})

    assert answers + [as_json] == [404, 404, 404], (
        f"GET /mailers/<an id no request has> answered {answers + [as_json]}; expected 404 each time."
    )


def test_a_page_that_is_not_final_polls_and_can_be_refreshed(client, database):
    db = database()
    request_id = db.add(status="queued")

    text = client.get(f"/mailers/{request_id}").get_data(as_text=True)

    assert "<script" in text and "application/json" in text, (
        "the page of a queued request has no script that asks for its JSON: the status changes "
        "without the user seeing it. A few lines of JavaScript: fetch the page's own URL with "
        "`Accept: application/json`, show the words, again in a second until `done`."
    )
    assert f'href="/mailers/{request_id}"' in text, (
        "the page of a queued request has no link to itself: without JavaScript, the user has no "
        "way to see the status change. Add a refresh link."
    )


@pytest.mark.parametrize("status", ["sent", "failed"])
def test_a_final_page_stops_asking(client, database, status):
    db = database()
    request_id = db.add(status=status)

    text = client.get(f"/mailers/{request_id}").get_data(as_text=True)

    assert "<script" not in text and f'href="/mailers/{request_id}"' not in text, (
        f"the page of a {status!r} request still polls or offers a refresh: its status will not "
        "change again. Poll only while it may."
    )
