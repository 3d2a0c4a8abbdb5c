"""Task 2: a mailer request is a row: its id, what was asked, its status and its times."""

from __future__ import annotations

import random
import string
import uuid
from datetime import datetime

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
TASK_2 = "README, task 2: the MailerRequest model in workit/models.py"
URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def bits_of(request_id: str) -> int:
    """How many random bits an id of this length can hold, judged by its alphabet (a UUID4: 122)."""
    try:
        if uuid.UUID(request_id).version == 4:
            return 122  # 6 of its 128 bits say "version 4" and its variant, in every one
    except ValueError:
        pass
    per_char = 4 if set(request_id) <= set(string.hexdigits) else 6
    return per_char * len(request_id)


def test_a_new_request_is_queued_and_keeps_what_was_asked(database):
    db = database()

    request_id = db.add(EMAIL, THOUGHT)

    row = db.row(request_id)
    assert row is not None, f"a MailerRequest was added and committed, and no row has its id {request_id!r}."
    asked = {key: row.get(key) for key in ("email", "thought", "status", "gif_url", "error")}
    assert asked == {"email": EMAIL, "thought": THOUGHT, "status": "queued", "gif_url": None, "error": None}, (
        f"a new request's row is {asked}; expected the email and the thought as given, the "
        f"status 'queued' by default, and no GIF or error yet. {TASK_2}."
    )
    assert row.get("created_at") and row.get("updated_at"), (
        f"a new request's created_at is {row.get('created_at')!r} and updated_at "
        f"{row.get('updated_at')!r}; both are set when the row is made, by default."
    )
    naive = [key for key in ("created_at", "updated_at") if isinstance(row[key], datetime) and row[key].tzinfo is None]
    assert not naive, (
        f"on {db.url.split(':', 1)[0]}, a new request's {naive[0]} came back as {row[naive[0]]!r}, "
        "without its time zone: the column stores times without their zone, and a server or a "
        f"reader in another zone reads them wrong. {TASK_2}: times with their zone."
    )


def test_ids_are_long_random_strings_not_a_counter(database):
    db = database()

    ids = [db.add() for _ in range(40)]

    assert all(isinstance(i, str) for i in ids), (
        f"the ids are {ids[:3]!r}...: numbers. The status page's URL holds the id and the page shows "
        "an email address: with 1, 2, 3..., anyone can read everyone's. Make the id a random string."
    )
    assert len(set(ids)) == len(ids), f"{len(ids)} requests got only {len(set(ids))} different ids."
    short = [i for i in ids if bits_of(i) < 128]
    assert not short, (
        f"ids such as {short[0]!r} hold fewer than 128 random bits"
        + (" (a UUID4 fixes 6 of its 128 bits: 122 are random)" if bits_of(short[0]) == 122 else "")
        + f": short enough to guess, given time. {TASK_2}."
    )
    assert all(set(i) <= URL_SAFE for i in ids), (
        f"ids such as {ids[0]!r} have characters that a URL must escape; use URL-safe ones."
    )
    alike = [
        sum(a == b for a, b in zip(first, second)) / len(first) for first, second in zip(ids, ids[1:])
    ]
    assert max(alike) < 0.5, (
        f"one request's id and the next agree in {max(alike):.0%} of their characters ({ids[0]!r}, "
        f"{ids[1]!r}): they follow each other like a clock or a counter (uuid1 is made of the time "
        "and the machine). Anyone who has one id could guess the next: draw every id at random."
    )


def test_ids_do_not_come_from_a_generator_anyone_can_replay(database):
    db = database()
    state = random.getstate()
    try:
        random.seed(2006)
        first = db.add()
        random.seed(2006)
        try:
            second = db.add()
        except Exception as error:  # noqa: BLE001 - the same id again breaks the primary key
            if "unique" not in str(error).lower():
                raise
            second = first
    finally:
        random.setstate(state)

    assert first != second, (
        f"with Python's `random` seeded the same twice, two requests got the same id, {first!r}: "
        "the ids come from a generator made for simulations, whose next numbers anyone can work "
        "out from a few hundred it gave before. An id nobody can guess needs a generator made "
        f"for secrets. {TASK_2}."
    )


def test_updated_at_moves_when_the_status_does(database, app):
    db = database()
    request_id = db.add()
    before = db.row(request_id)

    sqlalchemy = app.extensions["sqlalchemy"]
    with app.app_context():
        record = sqlalchemy.session.get(db.model, request_id)
        record.status = "sending"
        sqlalchemy.session.commit()
    after = db.row(request_id)

    assert after["status"] == "sending"
    assert after["updated_at"] > before["updated_at"] and after["created_at"] == before["created_at"], (
        f"the status changed and updated_at went from {before['updated_at']!r} to "
        f"{after['updated_at']!r} (created_at from {before['created_at']!r} to "
        f"{after['created_at']!r}); expected updated_at to move on every change and created_at "
        "to stay. SQLAlchemy's column option for a value set on every UPDATE does it."
    )
