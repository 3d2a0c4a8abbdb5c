"""What already works when this step starts: the form, the new columns, and the settings."""

from __future__ import annotations

import pytest


@pytest.mark.given
def test_the_form_is_still_there(client):
    page = client.get("/")

    assert page.status_code == 200 and "Welcome to Working-It" in page.get_data(as_text=True)


@pytest.mark.given
def test_the_maintenance_settings_have_their_defaults():
    from workit.config import from_environment

    settings = from_environment({})

    assert (settings["RETENTION_DAYS"], settings["RETENTION_HOUR"]) == (30, 3)
    assert (settings["RECONCILE_EVERY"], settings["RECONCILE_AFTER"]) == (300, 7200)
    assert (settings["MAINTENANCE_BATCH"], settings["MAINTENANCE_LOCK_TTL"]) == (100, 120)


@pytest.mark.given
def test_a_request_can_be_wiped_and_remembers_being_posted_again(database, ago):
    db = database()

    request_id = db.add(email=None, thought=None, status="sent", expired_at=ago(days=1), requeued_at=ago(days=2))

    row = db.row(request_id)
    assert row["email"] is None and row["expired_at"] and row["requeued_at"], row


@pytest.mark.given
def test_the_maintenance_queue_has_a_worker():
    from workit.workers import WORKERS

    assert WORKERS["maintenance"].pool == "prefork", "time limits are enforced in prefork only"
