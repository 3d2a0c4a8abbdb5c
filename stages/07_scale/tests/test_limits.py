"""Task 3: the lookup's rate limit and time limits, and the email's time limit, from the config;
at the soft limit, the email goes out without a GIF."""

from __future__ import annotations

import logging

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import rate

LOOK_UP, SEND = "workit.tasks.look_up_gif", "workit.tasks.send_randomness_email"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"
TASK_3 = "README, task 3: the limits in celery_init_app, and the soft limit in look_up_gif"
LIMITS = {"GIPHY_RATE_LIMIT": "7/m", "GIPHY_SOFT_TIME_LIMIT": 3.5, "GIPHY_TIME_LIMIT": 4.5, "MAIL_TIME_LIMIT": 9.0}


@pytest.fixture
def tasks_of(app_config):
    """`tasks_of(settings)`: the lookup and the email task of an app made with those settings."""
    made = []

    def make(settings):
        import workit.tasks  # noqa: F401  (the tasks join every Celery app)
        from workit import create_app

        app = create_app({**app_config, **settings})
        made.append(app.extensions["celery"])
        tasks = app.extensions["celery"].tasks
        return tasks[LOOK_UP], tasks[SEND]

    yield make
    for celery in made:
        celery.close()


def test_the_lookup_takes_its_rate_limit_and_time_limits_from_the_config(tasks_of):
    look_up, send = tasks_of(LIMITS)

    found = (look_up.rate_limit, look_up.soft_time_limit, look_up.time_limit)
    assert found == ("7/m", 3.5, 4.5), (
        f"with GIPHY_RATE_LIMIT '7/m', GIPHY_SOFT_TIME_LIMIT 3.5 and GIPHY_TIME_LIMIT 4.5, the lookup "
        f"task has rate_limit, soft_time_limit and time_limit {found}; expected those three. "
        f"{TASK_3}: set them on the task by name in the Celery config (task_annotations), from the "
        "Flask config, so an operator changes them without touching the code."
    )
    assert send.rate_limit is None, (
        f"the email task has the rate limit {send.rate_limit!r}: the limit is Giphy's budget; the "
        "email's job calls only the mail server."
    )


def test_the_email_has_a_time_limit_from_the_config(tasks_of):
    _, send = tasks_of(LIMITS)

    assert send.time_limit == 9.0, (
        f"with MAIL_TIME_LIMIT 9, the email task has time_limit {send.time_limit!r}; expected 9. "
        f"{TASK_3}: a hung mail server must not hold a worker for ever."
    )


def test_by_default_the_lookup_keeps_to_a_beta_keys_budget(tasks_of):
    look_up, _ = tasks_of({"GIPHY_RATE_LIMIT": "100/h"})

    assert look_up.rate_limit and rate(look_up.rate_limit) == rate("100/h"), (
        f"the lookup's rate limit is {look_up.rate_limit!r}; expected GIPHY_RATE_LIMIT, 100/h by default."
    )


def test_the_hard_limit_leaves_the_soft_one_time_to_act(tasks_of):
    from workit.config import from_environment

    defaults = from_environment({})
    look_up, _ = tasks_of({key: defaults[key] for key in ("GIPHY_SOFT_TIME_LIMIT", "GIPHY_TIME_LIMIT")})

    assert look_up.soft_time_limit and look_up.time_limit and look_up.soft_time_limit < look_up.time_limit, (
        f"by default the lookup's soft limit is {look_up.soft_time_limit!r} s and its hard limit "
        f"{look_up.time_limit!r} s; expected a soft limit, below the hard one: the soft limit lets "
        "the task send its email without a GIF; the hard one kills it, email and all."
    )


def test_at_the_soft_time_limit_the_email_goes_out_without_a_gif(
    app, celery_of, database, slow_giphy, inbox, queued, caplog
):
    from workit.tasks import look_up_gif, send_randomness_email

    celery_of(app)
    db = database()
    request_id = db.add()
    slow_giphy.raise_in_search = SoftTimeLimitExceeded()  # where the worker would raise it

    with caplog.at_level(logging.WARNING):
        result = look_up_gif.apply((request_id,))

    assert result.state == "SUCCESS", (
        f"the soft time limit struck during the Giphy call, and the lookup ended {result.state} "
        f"({result.result!r}); expected SUCCESS: catch SoftTimeLimitExceeded, as a Giphy that "
        f"failed for good, and go on without a GIF. {TASK_3}."
    )
    row = db.row(request_id)
    assert (row["status"], row["gif_url"]) == ("ready", None), (
        f"after the soft limit, the request says {row['status']!r} with gif_url {row['gif_url']!r}; "
        "expected 'ready' for the email, with no GIF."
    )
    assert queued() == {"email": [(SEND, [request_id])]} or [t for q in queued().values() for t, _ in q] == [SEND], (
        f"after the soft limit the lookup posted {queued()}; expected the email's job: not a lost job."
    )
    assert any(request_id in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING), (
        "nothing in the log at WARNING names the request whose lookup ran out of time."
    )
    send_randomness_email.apply((request_id,))
    assert len(inbox.deliveries) == 1 and "<img" not in inbox.messages[0].get_body(("html",)).get_content(), (
        "the email after a soft limit should go out once, without a GIF."
    )
