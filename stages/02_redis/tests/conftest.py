"""Stage 02's apps get their own REDIS_URL, and every Redis client they make is a fake."""

from __future__ import annotations

import os
from typing import Any

import pytest

# What create_app() reads from the environment (GIPHY_TIMEOUT, MAIL_TIMEOUT, SECRET_KEY, ...),
# and what Celery reads (CELERY_BROKER_URL): a value left in your shell must not change a test.
SETTINGS_PREFIXES = ("GIPHY_", "MAIL_", "REDIS_", "CELERY_")
SETTINGS = ("SECRET_KEY",)


@pytest.fixture(autouse=True)
def no_settings_from_the_shell(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the app's settings for each test; a test that needs one sets it itself.

    The integration tier runs the real services with the environment they are given.
    """
    if request.node.get_closest_marker("integration"):
        return
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES) or name in SETTINGS:
            monkeypatch.delenv(name)


# Nothing listens there: if a test ever reached a real Redis, it would fail at once.
KATA_REDIS_URL = "redis://kata-redis.invalid:6390/3"


@pytest.fixture
def redis_url() -> str:
    return KATA_REDIS_URL


@pytest.fixture
def app_config(app_config: dict[str, Any], fake_redis: Any, redis_url: str) -> dict[str, Any]:
    """The shared test config plus REDIS_URL; asking for it turns on the fake Redis."""
    return {**app_config, "REDIS_URL": redis_url}
