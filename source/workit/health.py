#> file 02-
"""Is Redis there? `GET /health` for programs, `flask --app workit redis-ping` for people."""

from __future__ import annotations

#> task 09.4
from datetime import timezone
#> end
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
    #> task 02.2
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
    #> or stub 02.2
    """"PONG" if Redis answers a PING; raises RedisUnavailable if not (README, task 2)."""
    raise NotImplementedError("Step 02_redis, task 2: write check_redis() in workit/health.py")
    #> end


@bp.get("/health")
def health() -> tuple[dict[str, str], int]:
    #> task 02.3
    try:
        answer = check_redis()
    except RedisUnavailable as problem:
    #> or stub 02.3
    """GET /health: 200 when Redis answers, 503 and the reason when not (README, task 3)."""
    raise NotImplementedError("Step 02_redis, task 3: write the GET /health view in workit/health.py")
    #> or extra 04
        # Where Redis is and what failed is for the log, not for anyone who asks (a load
        # balancer only needs the 503), except in debug mode, where the developer is asking.
        current_app.logger.warning("GET /health: %s", problem)
        if current_app.debug:
            return {"redis": "unavailable", "error": str(problem)}, 503
        return {"redis": "unavailable"}, 503
    #> or task 02.3 -04:stage
        return {"redis": "unavailable", "error": str(problem)}, 503
    #> or task 02.3
    return {"redis": answer}, 200
    #> end


@bp.cli.command("redis-ping")
def redis_ping() -> None:
    """Ask Redis for PING, like `redis-cli ping`: prints PONG, or what is wrong."""
    #> task 02.4
    try:
        answer = check_redis()
    except RedisUnavailable as problem:
        click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    click.echo(answer)
    #> or stub 02.4
    # TODO(02_redis): README, task 4 (the docstring above is the command's --help text).
    raise NotImplementedError("Step 02_redis, task 4: write the redis-ping command in workit/health.py")
    #> or 09-


@bp.get("/health/queues")
def queues() -> tuple[dict[str, object], int]:
    """NEW(09_oncall): the probe that the monitoring asks every minute whether jobs get done."""
    #> or task 09.4
    from sqlalchemy import func, select

    from workit.celery_app import QUEUES
    from workit.db import db
    from workit.models import QUEUED, READY, MailerRequest, utc_now

    # A worker can be up, answer every ping, and consume nothing (celery#8030): only the work
    # itself says whether it gets done. How many jobs wait in each queue's Redis list, and how
    # long the request that has waited longest for a worker has waited.
    depth = {queue: int(get_redis().llen(queue)) for queue in QUEUES}
    # waiting for a worker: for the lookup (queued) or for the email (ready)
    waiting = MailerRequest.status.in_((QUEUED, READY))
    oldest = db.session.scalar(select(func.min(MailerRequest.updated_at)).where(waiting))
    if oldest is not None and oldest.tzinfo is None:  # SQLite keeps no time zone: the column is UTC
        oldest = oldest.replace(tzinfo=timezone.utc)
    waited = max(0.0, (utc_now() - oldest).total_seconds()) if oldest is not None else 0.0
    stuck = waited > current_app.config["QUEUE_MAX_WAIT"]
    answer = {"status": "stuck" if stuck else "ok", "queues": depth, "oldest_wait_seconds": round(waited, 1)}
    return answer, 503 if stuck else 200
    #> or stub 09.4
    # OPS-98: the workers are fine as long as Redis answers: they reconnect by themselves.
    return {"status": "ok", "redis": check_redis()}, 200
    #> end
