"""Is Redis there? `GET /health` for programs, `flask --app workit redis-ping` for people."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import click
import redis
from flask import Blueprint, current_app

from workit.redis_client import get_redis

# cli_group=None puts the blueprint's commands at the top: `flask redis-ping`,
# not `flask health redis-ping`.
bp = Blueprint("health", __name__, cli_group=None)


class RedisUnavailable(Exception):
    """Redis did not answer; the message says where we looked and what to do about it."""


def redacted(url: str) -> str:
    """`url` fit to show: a password in it becomes `***`."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def check_redis() -> str:
    """Ask Redis for PING. Return "PONG" when it answers; raise RedisUnavailable when not.

    TODO (step 02_redis):
    - `get_redis().ping()` sends PING. redis-py turns Redis's PONG into True.
    - when Redis is down or silent, redis-py raises a `redis.RedisError`
      (`redis.ConnectionError` when nobody listens, `redis.TimeoutError` when nobody
      answers in time). Catch it and raise `RedisUnavailable(message)` instead. The
      message is for a person: which URL did not answer (`redacted(REDIS_URL)`, never the
      password) and what to do (start `redis-server`, or set REDIS_URL).
    """
    raise NotImplementedError(
        "Step 02_redis: write check_redis() in workit/health.py: PING Redis, return 'PONG', "
        "or raise RedisUnavailable saying which URL did not answer. See stages/02_redis/README.md"
    )


@bp.get("/health")
def health() -> tuple[dict[str, str], int]:
    """GET /health: 200 and {"redis": "PONG"} when Redis answers, 503 and why when not.

    TODO (step 02_redis): call check_redis(). On RedisUnavailable, answer 503 with the
    explanation in JSON, e.g. {"redis": "unavailable", "error": str(problem)}: a monitor
    reads the status, a person reads the error. Never let the exception escape as a 500.
    """
    raise NotImplementedError(
        "Step 02_redis: write health() in workit/health.py: 200 with PONG when Redis answers, "
        "503 with the explanation when not. See stages/02_redis/README.md"
    )


@bp.cli.command("redis-ping")
def redis_ping() -> None:
    """Ask Redis for PING, like `redis-cli ping`: prints PONG, or what is wrong.

    TODO (step 02_redis): call check_redis() and `click.echo` its answer. On
    RedisUnavailable, `click.echo(str(problem), err=True)` and `raise SystemExit(1)`, so
    scripts see the failure in the exit code (and nobody sees a traceback).
    """
    raise NotImplementedError(
        "Step 02_redis: write the redis-ping command in workit/health.py: print PONG, or the "
        "explanation and exit 1. See stages/02_redis/README.md"
    )
