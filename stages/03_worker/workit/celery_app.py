"""Celery, bound to the Flask app: its settings from app.config, its tasks run in an app context.

One Celery app per Flask app, made by the app factory and kept in `app.extensions`: the pattern
of Flask's guide "Background Tasks with Celery" (linked from the README).
"""

from __future__ import annotations

from celery import Celery
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    """Make a new Celery app for `app`, keep it in `app.extensions`, and return it.

    README, task 1 (the app and its settings) and task 2 (the app context of every task).
    """
    raise NotImplementedError(
        "Step 03_worker, task 1: write celery_init_app(app) in workit/celery_app.py, and call it "
        "in create_app (workit/__init__.py). See stages/03_worker/README.md"
    )
