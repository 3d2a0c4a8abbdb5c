"""Fixtures for the integration tier (`--integration`): the real stack on loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kata.services import require_real
from kata.stack import (
    GiphyStandIn,
    Maildump,
    RedisInfo,
    app_environment,
    maildump_service,
    redis_process,
    redis_server_binary,
    redis_service,
    web_service,
    worker_service,
)

INTEGRATION_ENV = "KATA_INTEGRATION"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("kata").addoption(
        "--integration",
        action="store_true",
        help=f"also run the integration tier: real redis-server, celery worker, maildump (or {INTEGRATION_ENV}=1)",
    )


def integration_enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("integration")) or os.environ.get(INTEGRATION_ENV) == "1"


INTEGRATION_TIMEOUT = 120  # seconds: starting the services alone may take half a minute in CI


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if integration_enabled(config):
        for item in items:
            if item.get_closest_marker("integration") and not item.get_closest_marker("timeout"):
                item.add_marker(pytest.mark.timeout(INTEGRATION_TIMEOUT))
        return
    deselected = [item for item in items if item.get_closest_marker("integration")]
    if deselected:
        items[:] = [item for item in items if not item.get_closest_marker("integration")]
        config.hook.pytest_deselected(items=deselected)


@pytest.fixture(scope="session")
def stack_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack-logs")


@pytest.fixture(scope="session")
def real_redis(stack_logs: Path) -> Iterator[RedisInfo]:
    """redis-server on a free port (REDIS_URL if set). Without one: fakeredis over TCP, except
    under KATA_REQUIRE_SERVICES=1 (CI), where that fails."""
    if not os.environ.get("REDIS_URL") and redis_server_binary() is None:
        require_real("redis-server", "the integration tier would run on the embedded fakeredis")
    with redis_service(stack_logs) as info:
        if info.kind == "embedded":
            print("kata: no redis-server on PATH, using the embedded fakeredis server (apt-get install redis-server)")
        yield info


@contextmanager
def own_redis_process(logs: Path, name: str) -> Iterator[RedisInfo]:
    """For a test that stops, hangs or kills Redis: a Redis process of its own. redis-server;
    without it, the embedded Redis in a child process (a failure under KATA_REQUIRE_SERVICES=1)."""
    if redis_server_binary() is None:
        require_real("redis-server", "this test would stop the embedded Redis in a child process instead")
    with redis_process(logs, name) as info:
        yield info


@pytest.fixture(scope="session")
def maildump(stack_logs: Path) -> Iterator[Maildump]:
    with maildump_service(stack_logs) as inbox:
        yield inbox


@pytest.fixture
def mail_inbox(maildump: Maildump) -> Maildump:
    """maildump, emptied for the test."""
    import requests

    requests.delete(f"{maildump.inbox_url}messages/", timeout=5).raise_for_status()
    return maildump


@pytest.fixture
def giphy_standin() -> Iterator[GiphyStandIn]:
    with GiphyStandIn() as standin:
        yield standin


@pytest.fixture
def code_dir(request: pytest.FixtureRequest) -> Path:
    """The directory whose `workit` this test's processes run: stages/NN_x or solutions/NN_x."""
    from kata.plugin import code_dir_for

    directory = code_dir_for(request.config, request.path)
    assert directory is not None, f"{request.path} is not inside stages/NN_x/"
    return directory


@pytest.fixture
def stack_env(real_redis: RedisInfo, mail_inbox: Maildump, giphy_standin: GiphyStandIn) -> dict[str, str]:
    return app_environment(real_redis.url, mail_inbox, giphy_standin.api_url)


@pytest.fixture
def web(code_dir: Path, stack_env: dict[str, str], stack_logs: Path) -> Iterator[str]:
    """The stage's Flask app served by `flask run` on a free port; yields its base URL."""
    with web_service(code_dir, stack_env, stack_logs) as service:
        yield service.url


@pytest.fixture
def celery_worker_process(code_dir: Path, stack_env: dict[str, str], stack_logs: Path) -> Iterator[object]:
    """`celery -A workit.worker worker` for the stage's code, stopped after the test."""
    with worker_service(code_dir, stack_env, stack_logs) as service:
        yield service
