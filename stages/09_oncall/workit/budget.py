"""NEW(09_oncall): given. Giphy's budget: the calls our API key may make in a period, as
GIPHY_RATE_LIMIT says it ("100/h": a hundred an hour).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PERIODS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def giphy_budget(config: Mapping[str, Any]) -> tuple[int, float] | None:
    """GIPHY_RATE_LIMIT as (calls, seconds): "100/h" is (100, 3600.0); None when there is none."""
    limit = config.get("GIPHY_RATE_LIMIT")
    if not limit:
        return None
    calls, _, period = str(limit).partition("/")
    return int(float(calls)), PERIODS[(period or "s").strip()[0]]
