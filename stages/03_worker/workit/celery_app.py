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
    """Make the Celery app for `app`, keep it in `app.extensions[EXTENSION]`, and return it.

    TODO (step 03_worker):
    - inside this function, define `class FlaskTask(Task)` whose
      `__call__(self, *args: Any, **kwargs: Any)` returns `self.run(*args, **kwargs)`
      from inside `with app.app_context():`. A worker has no request, so without this
      `current_app` (which send_randomness_email reads its settings from) does not exist.
    - `Celery(app.name, task_cls=FlaskTask, include=["workit.tasks"])`: every task gets
      that class, and a worker imports `workit.tasks` when it starts, so it knows the task.
    - configure it from the Flask config, nothing written in the code: the broker is
      `app.config["REDIS_URL"]` (Celery calls it `broker_url`), then every setting in the
      dict `app.config["CELERY"]` on top (`celery_app.config_from_object(a_dict)`).
    - `celery_app.set_default()`, so @shared_task tasks find this app from every thread.
    - `app.extensions[EXTENSION] = celery_app`, and return it.
    Then call it from create_app (workit/__init__.py), where the TODO is.
    """
    raise NotImplementedError(
        "Step 03_worker: write celery_init_app(app) in workit/celery_app.py: a Celery app with "
        "a FlaskTask class, configured from app.config, kept in app.extensions['celery']. "
        "See stages/03_worker/README.md"
    )
