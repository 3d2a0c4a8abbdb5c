"""Stage 09's tests share the fixtures of the stages with two chained jobs (kata/chained_fixtures.py):
a Celery broker, a database per test, real workers per queue, a Giphy that can be held.
A worker of these tests gets 20 s to stop (one may hold a message for later and let it go on
the way out), and a held Giphy search waits up to 60 s, longer than any wait of the tests.
"""

from kata.chained_fixtures import *  # noqa: F403 (the fixtures, for this stage only)

import pytest


@pytest.fixture
def worker_shutdown_timeout() -> float:
    return 20


@pytest.fixture
def giphy_hold_seconds() -> float:
    return 60
