"""Stage 03's apps get a Celery broker: the test's fake Redis, served on a loopback port."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def app_config(app_config: dict[str, Any], celery_app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **celery_app_config}
