"""Celery, bound to the Flask app: settings from app.config, every task run in an app context.

The pattern from Flask's "Background Tasks with Celery" page: one Celery app per Flask app,
made by the app factory and kept in `app.extensions["celery"]`.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

EXTENSION = "celery"


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        """A task that runs inside `app`'s app context, so `current_app` works in it."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # include: the modules a worker imports at start-up, so it knows their tasks.
    celery_app = Celery(app.name, task_cls=FlaskTask, include=["workit.tasks"])
    celery_app.config_from_object({"broker_url": app.config["REDIS_URL"], **app.config["CELERY"]})
    # The default app is the one @shared_task tasks use in any thread, such as a request's.
    celery_app.set_default()
    app.extensions[EXTENSION] = celery_app
    return celery_app
