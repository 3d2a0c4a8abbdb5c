"""NEW(09_oncall): given. Giphy's budget: the calls our API key may make in a period, as
GIPHY_RATE_LIMIT says it ("100/h": a hundred an hour).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from celery import Task
from celery.exceptions import Ignore
from celery.utils.log import get_task_logger

from workit.redis_client import get_redis

logger = get_task_logger(__name__)

BUDGET_KEY = "workit:giphy-budget:"  # + the number of the period: one counter per period
PERIODS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def giphy_budget(config: Mapping[str, Any]) -> tuple[int, float] | None:
    """GIPHY_RATE_LIMIT as (calls, seconds): "100/h" is (100, 3600.0); None when there is none."""
    limit = config.get("GIPHY_RATE_LIMIT")
    if not limit:
        return None
    calls, _, period = str(limit).partition("/")
    return int(float(calls)), PERIODS[(period or "s").strip()[0]]


def seconds_until_budget(config: Mapping[str, Any]) -> float:
    """0 when this lookup may call Giphy now, and counts it; else the seconds until the budget
    has room again. One count in Redis for every worker: the budget is the key's, not a worker's."""
    budget = giphy_budget(config)
    if budget is None:
        return 0.0
    calls, period = budget
    now = time.time()
    number = int(now // period)
    key = f"{BUDGET_KEY}{number}"
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, int(period) + 1)  # the counter goes with its period
    count, _ = pipe.execute()
    if count <= calls:
        return 0.0
    return (number + 1) * period - now


def wait_for_budget(task: Task, request_id: str, config: Mapping[str, Any]) -> None:
    """Return when the lookup may call Giphy; else post it again for later, and end this run."""
    wait = seconds_until_budget(config)
    if not wait:
        return
    # A message held longer than the visibility timeout is handed out again (Redis): come back
    # sooner, and ask the budget again then.
    countdown = min(wait, config["CELERY_VISIBILITY_TIMEOUT"] / 2)
    logger.warning("request %s: Giphy's budget is spent; looking up again in %.0f s", request_id, countdown)
    task.apply_async(args=(request_id,), countdown=countdown)
    raise Ignore()
