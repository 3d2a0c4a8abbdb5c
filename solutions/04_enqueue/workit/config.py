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


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    return {
        "SECRET_KEY": environ.get("SECRET_KEY"),  # unset: create_app asks fallback_secret_key
        "GIPHY_API_KEY": environ.get("GIPHY_API_KEY"),
        "GIPHY_TIMEOUT": float(environ.get("GIPHY_TIMEOUT", "5")),
        "MAIL_SERVER": environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(environ.get("MAIL_PORT", "1025")),
        "MAIL_TIMEOUT": float(environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_SENDER": MAIL_SENDER,
        "REDIS_URL": environ.get("REDIS_URL", "redis://localhost:6379/0"),
        "REDIS_TIMEOUT": float(environ.get("REDIS_TIMEOUT", "1")),
        # Celery's own settings, lower-case as Celery names them. celery_init_app sets the
        # broker to REDIS_URL, then applies these on top.
        "CELERY": {
            "task_ignore_result": True,  # nobody reads a task's return value: store none
            "broker_connection_retry_on_startup": True,  # a worker waits for Redis to come up
        },
    }


def fallback_secret_key(app: Flask) -> str:
    """The key for an app started without SECRET_KEY.

    In debug or testing mode, the well-known development key. Anywhere else a published key
    would let anyone forge the session cookie, so: a random key, and a warning. Flashed
    messages still work, but sessions end when the process restarts and are not shared with
    other processes. Set SECRET_KEY for real use.
    """
    if app.debug or app.testing:
        return DEV_SECRET_KEY
    app.logger.warning(
        "SECRET_KEY is not set: using a random key for this process. Sessions will not "
        "survive a restart; set SECRET_KEY in the environment."
    )
    return secrets.token_hex()
