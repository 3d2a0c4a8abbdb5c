"""Settings read from the environment, with development defaults where that is safe."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

MAIL_SENDER = "gob@example.com"
DEV_SECRET_KEY = "dev-only-not-secret"
MAX_FORM_BYTES = 16 * 1024  # the form is two short fields and a token: 16 KiB is plenty


class MissingSecretKey(RuntimeError):
    """SECRET_KEY is not set, and the app is neither in debug nor in testing mode."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    return {
        "SECRET_KEY": environ.get("SECRET_KEY"),  # unset: create_app asks fallback_secret_key
        # CSRF protection on the form (Flask-WTF): on unless WTF_CSRF_ENABLED=0. The tests turn
        # it off in their config, except the one that checks it.
        "WTF_CSRF_ENABLED": _flag(environ.get("WTF_CSRF_ENABLED"), default=True),
        # A bigger request is refused with 413 before Flask reads it (the view shows the form).
        "MAX_CONTENT_LENGTH": MAX_FORM_BYTES,
        "GIPHY_API_KEY": environ.get("GIPHY_API_KEY"),
        "GIPHY_TIMEOUT": float(environ.get("GIPHY_TIMEOUT", "5")),
        "MAIL_SERVER": environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(environ.get("MAIL_PORT", "1025")),
        "MAIL_TIMEOUT": float(environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_SENDER": MAIL_SENDER,
        # Where the mailer requests are kept (workit/db.py): unset, a SQLite file in the
        # instance folder; postgresql://... for PostgreSQL.
        "DATABASE_URL": environ.get("DATABASE_URL"),
        "REDIS_URL": environ.get("REDIS_URL", "redis://localhost:6379/0"),
        "REDIS_TIMEOUT": float(environ.get("REDIS_TIMEOUT", "1")),
        # Seconds before a job taken by a worker that never finished it goes back to the queue
        # (see celery_init_app). The kata's worker-kill test makes it short.
        "CELERY_VISIBILITY_TIMEOUT": float(environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
        # Celery's own settings, lower-case as Celery names them. celery_init_app sets the
        # broker to REDIS_URL, then applies these on top.
        "CELERY": {
            "task_ignore_result": True,  # nobody reads a task's return value: store none
            "broker_connection_retry_on_startup": True,  # a worker waits for Redis to come up
            # With late acks (workit/tasks.py), take one job at a time: a job waiting in a
            # busy worker's hands is a job an idle worker cannot start.
            "worker_prefetch_multiplier": 1,
        },
    }


def fallback_secret_key(app: Flask) -> str:
    """The key for an app started without SECRET_KEY.

    In debug or testing mode, the well-known development key. Anywhere else the app refuses
    to start: a published key would let anyone forge the session cookie and the CSRF token,
    and a random one would break both as soon as a second process (or a restart) comes along.
    """
    if app.debug or app.testing:
        return DEV_SECRET_KEY
    raise MissingSecretKey(
        "SECRET_KEY is not set. The app signs its session cookie and the form's CSRF token "
        "with it, so it will not start without one. Set it in the environment, e.g. "
        f"SECRET_KEY={secrets.token_hex(16)} (any long random string, the same for every "
        "process), or run `flask --app workit run --debug` for local development."
    )
