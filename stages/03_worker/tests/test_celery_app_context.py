"""Every task of the Celery app runs inside the app context of its own Flask app.

The tests add a small task of their own, a probe, to the Celery app create_app made: it reports
the Flask app it finds as `current_app`, and the arguments it was given. Called directly, a task
runs here and now, as it would in a worker: with no request and no app context around it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app, has_app_context

from workit import create_app

PROBE = "kata.probe_the_app_context"
FIRST_URL = "redis://kata-first.invalid:6394/1"
SECOND_URL = "redis://kata-second.invalid:6395/2"


class ProbeFailed(Exception):
    """What the probe raises when it is asked to fail."""


def probe_of(celery: Any) -> Any:
    """The probe task, added to `celery` alone (shared=False: no other Celery app gets it)."""

    @celery.task(name=PROBE, shared=False)
    def probe(*args: Any, fail: bool = False, **kwargs: Any) -> dict[str, Any]:
        if fail:
            raise ProbeFailed("the probe task failed, as asked")
        found = current_app._get_current_object() if has_app_context() else None
        return {"app": found, "args": args, "kwargs": kwargs}

    return probe


def pop_every_app_context() -> None:
    """Clean up after a task that left its app context pushed, for the tests that follow."""
    from flask.globals import _cv_app

    while has_app_context():
        _cv_app.get().pop()


def start_outside_any_app_context() -> None:
    """The test calls the task as a worker does; an app context already pushed is the code's."""
    if not has_app_context():
        return
    left = current_app.name
    from flask.globals import _cv_app

    while has_app_context():
        _cv_app.get().pop()
    raise AssertionError(
        f"before the task was called, the app context of {left!r} was already pushed, and this "
        "test pushed none: create_app (celery_init_app?) left it pushed. Every later task and "
        "request in this thread would then run in that one app's context, and a task that "
        "works here could still fail in a worker. Push a context only around each task's "
        "body, and pop it after (README, task 2)."
    )


def run_probe(celery: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call the probe as a worker calls a task: no request, no app context around it."""
    start_outside_any_app_context()
    try:
        result = probe_of(celery)(*args, **kwargs)
    except RuntimeError as error:
        if "application context" not in str(error):
            raise
        pop_every_app_context()
        raise AssertionError(
            f"a task of the Celery app create_app made, called outside any app context as a "
            f"worker calls it, raised RuntimeError: {error.args[0].splitlines()[0]} Your task "
            "class needs an app context to push one: current_app exists only inside an app "
            "context, and a worker has none. Push the app context of the Flask app given to "
            "celery_init_app, the `app` it was called with."
        ) from error
    left = current_app.name if has_app_context() else None
    pop_every_app_context()
    assert left is None, (
        f"after a task returned, the app context of {left!r} was still pushed: the next task, "
        "or the next request, would run inside it. Push the app context for the task body "
        "and pop it when the body is done (a `with` block does both)."
    )
    return result


def test_a_task_called_outside_any_app_context_runs_inside_its_flask_app_s(app, celery_of):
    result = run_probe(celery_of(app))

    assert isinstance(result, dict), (
        f"the probe task returned {result!r}, not what its body returned: a task gives back "
        "whatever its body returns. Does your task class run the body and return its result?"
    )
    found = result["app"]
    assert found is not None, (
        "a task of the Celery app create_app made, called outside any app context, found no "
        "app context inside it: current_app does not exist there, so step 01's notifier cannot "
        "read its settings. A worker has no request to give it one. Make every task of the "
        "Celery app run inside the app context of the Flask app given to celery_init_app "
        "(README, task 2)."
    )
    assert found is app, (
        f"a task of the Celery app that create_app made for {app!r} ran in the app context of "
        f"another Flask app, {found!r}, so it would read that app's settings. Each task must run "
        "in the context of the Flask app whose Celery app it belongs to: the `app` that "
        "celery_init_app was given."
    )


def test_each_flask_app_s_tasks_run_in_that_app_s_context(app_config, celery_of):
    first = create_app({**app_config, "REDIS_URL": FIRST_URL})
    second = create_app({**app_config, "REDIS_URL": SECOND_URL})
    celeries = (celery_of(first), celery_of(second))

    found = tuple(run_probe(celery)["app"] for celery in celeries)
    assert found == (first, second), (
        f"two Flask apps, {first!r} then {second!r}, each with its own Celery app: their tasks "
        f"ran in the app contexts of {found!r}; expected each in its own Flask app's. A task "
        "class made once, at module level, or kept from the first call of celery_init_app, "
        "keeps the first Flask app it saw: make it inside celery_init_app, for the app given."
    )


def test_the_task_body_gets_every_argument_and_its_result_comes_back(app, celery_of):
    result = run_probe(celery_of(app), "tobias@example.com", 3, thought="I just blue myself")

    assert isinstance(result, dict), (
        f"the probe task returned {result!r}, not what its body returned: a task gives back "
        "whatever its body returns. Does your task class run the body and return its result?"
    )
    got = (result["args"], result["kwargs"])
    expected = (("tobias@example.com", 3), {"thought": "I just blue myself"})
    assert got == expected, (
        f"the probe task was called with the arguments {expected[0]!r} and the keyword "
        f"arguments {expected[1]!r}, and its body received {got[0]!r} and {got[1]!r}. Your task "
        "class must hand every argument on to the task body, positional and keyword, unchanged."
    )


def test_no_app_context_is_left_behind_after_a_task(app, celery_of):
    celery = celery_of(app)

    run_probe(celery)  # fails if the task left its app context pushed

    assert not has_app_context()


def test_a_task_s_error_comes_out_and_leaves_no_app_context(app, celery_of):
    celery = celery_of(app)

    with pytest.raises(ProbeFailed) as raised:
        try:
            run_probe(celery, fail=True)
        except ProbeFailed:
            raise
        except BaseException as error:
            pytest.fail(
                f"the probe task raised ProbeFailed in its body, and what came out of the task "
                f"was {type(error).__name__}: {error}; expected the task's own error, unchanged."
            )
        else:
            pytest.fail(
                "the probe task raised ProbeFailed in its body, and calling the task returned "
                "normally: your task class hides a task's errors, so a failed email would look "
                "like a sent one. Let the error out."
            )
    left = has_app_context()
    pop_every_app_context()
    assert not left, (
        f"after a task raised {raised.type.__name__}, an app context was still pushed. Pop it "
        "even when the task body raises (a `with` block does that)."
    )


def test_a_task_called_inside_another_app_s_context_runs_in_its_own(app_config, celery_of):
    other = create_app({**app_config, "REDIS_URL": FIRST_URL})
    app = create_app({**app_config, "REDIS_URL": SECOND_URL})
    probe = probe_of(celery_of(app))

    with other.app_context():
        result = probe()
        around = current_app._get_current_object() if has_app_context() else None
    pop_every_app_context()

    assert isinstance(result, dict), (
        f"the probe task returned {result!r}, not what its body returned: a task gives back "
        "whatever its body returns. Does your task class run the body and return its result?"
    )
    assert result["app"] is app, (
        f"a task of the Celery app bound to {app!r}, called while the app context of another "
        f"Flask app, {other!r}, was pushed, ran in {result['app']!r}'s context: it would read "
        "the settings of another Flask app. Push the context of the app given to "
        "celery_init_app for every task, whether or not some app context is already pushed."
    )
    assert around is other, (
        f"the task was called inside the app context of {other!r}; after it, the app context "
        f"was {around!r}. Pop only the context your task class pushed (a `with` block does that)."
    )
