"""Stage 02's apps get their own REDIS_URL, and every Redis client they make is a fake."""

from __future__ import annotations

from typing import Any

import pytest


# Nothing listens there: if a test ever reached a real Redis, it would fail at once.
KATA_REDIS_URL = "redis://kata-redis.invalid:6390/3"


@pytest.fixture
def redis_url() -> str:
    return KATA_REDIS_URL


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_redis: Any, redis_url: str) -> dict[str, Any]:
    """The shared test config plus REDIS_URL; asking for it turns on the fake Redis."""
    return {**app_config, "REDIS_URL": redis_url}
