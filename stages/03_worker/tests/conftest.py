"""Stage 03's apps get a Celery broker: the test's fake Redis, served on a loopback port."""

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


@pytest.fixture
def app_config(app_config: dict[str, Any], celery_app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **celery_app_config}
