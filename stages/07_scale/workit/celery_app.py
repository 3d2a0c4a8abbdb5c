"""Celery, bound to the Flask app: settings from app.config, every task run in an app context.

The pattern from Flask's "Background Tasks with Celery" page: one Celery app per Flask app,
made by the app factory and kept in `app.extensions["celery"]`.
"""

from __future__ import annotations

from collections.abc import Mapping  # NEW(07_scale)
from typing import Any

from celery import Celery, Task
from flask import Flask

EXTENSION = "celery"

# Queueing a job must fail fast when Redis is away: a request is waiting for it. Short socket
# timeouts, and one quick second try (for a pooled connection that Redis closed meanwhile), so
# .delay() gives up within a second and the view can answer 503. Settings in app.config
# ["CELERY"] win over these.
BROKER_TIMEOUT = 0.3  # seconds; Redis on the same network answers in a millisecond
FAIL_FAST_TRANSPORT = {"socket_connect_timeout": BROKER_TIMEOUT, "socket_timeout": BROKER_TIMEOUT}
FAIL_FAST_PUBLISH = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}

# NEW(07_scale): two queues, one per kind of work, and the names of the tasks that go to them.
GIPHY_QUEUE, EMAIL_QUEUE = "giphy", "email"
LOOK_UP, SEND = "workit.tasks.look_up_gif", "workit.tasks.send_randomness_email"
# NEW(07_scale): a worker started without -Q reads both queues (one worker for everything).
QUEUES = {GIPHY_QUEUE: {}, EMAIL_QUEUE: {}}


def routes() -> dict[str, Any]:
    """task_routes: each task's queue, by the task's name (README, task 2)."""
    raise NotImplementedError("Step 07_scale, task 2: write routes() in workit/celery_app.py")


def limits(config: Mapping[str, Any]) -> dict[str, Any]:
    """task_annotations: each task's limits, from the Flask app's config (README, task 3)."""
    # TODO(07_scale): task 3. No limits yet, so that tasks 1 and 2 run without them: the lookup
    # may call Giphy as often and as long as it likes, and the email may hang for ever.
    return {}


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        """A task that runs inside `app`'s app context, so `current_app` works in it."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # include: the modules a worker imports at start-up, so it knows their tasks.
    celery_app = Celery(app.name, task_cls=FlaskTask, include=["workit.tasks"])
    settings = {"broker_url": app.config["REDIS_URL"], **app.config["CELERY"]}
    visibility = app.config["CELERY_VISIBILITY_TIMEOUT"]
    settings["broker_transport_options"] = {
        **FAIL_FAST_TRANSPORT,
        # A job whose worker died before acknowledging it (tasks use acks_late) goes back to
        # the queue this many seconds after the worker took it. Keep it longer than any job,
        # retry countdowns included (tasks.BACKOFF_MAX), or a slow job is handed out twice.
        "visibility_timeout": visibility,
        # How often a worker looks for such jobs; kombu's default is about every 100 s.
        "unacked_restore_interval": max(1.0, min(10.0, visibility / 4)),
        "unacked_restore_throttle": 1,
        **settings.get("broker_transport_options", {}),
    }
    settings.setdefault("task_publish_retry_policy", FAIL_FAST_PUBLISH)
    # NEW(07_scale): both queues declared.
    settings.setdefault("task_queues", QUEUES)
    # TODO(07_scale): task 2, the routes, and task 3, the limits, in the settings.
    celery_app.config_from_object(settings)
    # The default app is the one @shared_task tasks use in any thread, such as a request's.
    celery_app.set_default()
    app.extensions[EXTENSION] = celery_app
    return celery_app
