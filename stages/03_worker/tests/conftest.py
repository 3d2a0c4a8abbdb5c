"""Stage 03's apps get a Celery broker: the test's fake Redis, served on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def app_config(app_config: dict[str, Any], celery_app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **celery_app_config}


@pytest.fixture(autouse=True)
def _pop_app_contexts_left_behind() -> Iterator[None]:
    """A task class that pushes an app context and never pops it fails its own test
    (test_celery_app_context.py); it must not make every later test start inside that context."""
    yield
    from flask import has_app_context
    from flask.globals import _cv_app

    while has_app_context():
        _cv_app.get().pop()
