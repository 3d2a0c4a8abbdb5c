"""The app's one Redis client, made on first use, with timeouts short enough to fail fast."""

from __future__ import annotations

import redis
from flask import current_app

EXTENSION = "redis"


def get_redis() -> redis.Redis:
    extensions = current_app.extensions
    if EXTENSION not in extensions:
        timeout = current_app.config["REDIS_TIMEOUT"]
        extensions[EXTENSION] = redis.Redis.from_url(
            current_app.config["REDIS_URL"],
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            decode_responses=True,
        )
    return extensions[EXTENSION]
