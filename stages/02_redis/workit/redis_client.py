"""The app's one Redis client, made on first use, with timeouts short enough to fail fast."""

from __future__ import annotations

import redis
from flask import current_app

EXTENSION = "redis"


def get_redis() -> redis.Redis:
    """Return this app's Redis client: made on the first call, the same object after that.

    TODO (step 02_redis):
    - the client lives in `current_app.extensions[EXTENSION]`, a dict Flask gives each app
      for exactly this. If it is there, return it.
    - otherwise make it with `redis.Redis.from_url(url, ...)`, where url is
      `current_app.config["REDIS_URL"]`, and pass socket_connect_timeout=... and
      socket_timeout=..., both `current_app.config["REDIS_TIMEOUT"]`, and
      decode_responses=True (so you get `str` back, not `bytes`). Keep it in
      `current_app.extensions`, then return it.
    Do not call this from create_app: the app must start even when Redis is down.
    Making the client does not connect yet; redis-py connects on the first command.
    """
    raise NotImplementedError(
        "Step 02_redis: write get_redis() in workit/redis_client.py: one client per app, "
        "made on first use with redis.Redis.from_url(REDIS_URL, timeouts...). "
        "See stages/02_redis/README.md"
    )
