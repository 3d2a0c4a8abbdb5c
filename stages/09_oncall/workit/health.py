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
    url = current_app.config["REDIS_URL"]
    try:
        get_redis().ping()
    except redis.RedisError as error:
        raise RedisUnavailable(
            f"Redis is not answering at {redacted(url)} ({error}). Is it running? Start it "
            "with `redis-server` and check it with `redis-cli ping`, or point REDIS_URL at "
            "your Redis."
        ) from error
    return "PONG"


@bp.get("/health")
def health() -> tuple[dict[str, str], int]:
    try:
        answer = check_redis()
    except RedisUnavailable as problem:
        # Where Redis is and what failed is for the log, not for anyone who asks (a load
        # balancer only needs the 503), except in debug mode, where the developer is asking.
        current_app.logger.warning("GET /health: %s", problem)
        if current_app.debug:
            return {"redis": "unavailable", "error": str(problem)}, 503
        return {"redis": "unavailable"}, 503
    return {"redis": answer}, 200


@bp.cli.command("redis-ping")
def redis_ping() -> None:
    """Ask Redis for PING, like `redis-cli ping`: prints PONG, or what is wrong."""
    try:
        answer = check_redis()
    except RedisUnavailable as problem:
        click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    click.echo(answer)


@bp.get("/health/queues")
def queues() -> tuple[dict[str, object], int]:
    """NEW(09_oncall): the probe that the monitoring asks every minute whether jobs get done."""
    # OPS-98: the workers are fine as long as Redis answers: they reconnect by themselves.
    return {"status": "ok", "redis": check_redis()}, 200
