"""Fixtures every stage shares: Giphy, an SMTP inbox, Redis, and the Flask app under test."""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kata.broker import CELERY_TEST_CONF, TcpBroker, worker_running
from kata.giphy import GiphyMock, giphy_mock
from kata.inbox import SmtpInbox
from kata.layout import stage_of

GIPHY_TEST_KEY = "kata-test-giphy-key"

# What create_app() reads from the environment (GIPHY_TIMEOUT, MAIL_TIMEOUT, SECRET_KEY, ...),
# and what Celery reads (CELERY_BROKER_URL): a value left in your shell must not change a test.
SETTINGS_PREFIXES = ("GIPHY_", "MAIL_", "REDIS_", "CELERY_", "RATELIMIT_")
SETTINGS = ("SECRET_KEY", "FLASK_DEBUG", "PROXY_FIX_X_FOR")


def _started_by_workit(thread: threading.Thread) -> bool:
    target = getattr(thread, "_target", None)
    module = getattr(target, "__module__", None) or type(thread).__module__
    return module == "workit" or module.startswith("workit.")


@pytest.fixture(autouse=True)
def no_thread_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """A thread that the app under test starts and leaves running does work nobody waits for:
    in a web app, a second, hidden way of sending the email. Each stage test ends without one."""
    if stage_of(request.path, request.config.rootpath) is None:
        yield
        return
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 0.2
    while True:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive() and _started_by_workit(t)]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not left, (
        f"the test ended with thread(s) started by workit still running: {[t.name for t in left]}. "
        "Work the request starts in a thread of its own is work nobody waits for or retries: "
        "hand it to Celery with .delay(...) instead."
    )


@pytest.fixture(autouse=True)
def no_settings_from_the_shell(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the app's settings for each stage test; a test that needs one sets it itself.

    The integration tier runs the real services with the environment they are given.
    """
    if stage_of(request.path, request.config.rootpath) is None or request.node.get_closest_marker("integration"):
        return
    for name in list(os.environ):
        if name.startswith(SETTINGS_PREFIXES) or name in SETTINGS:
            monkeypatch.delenv(name)


@pytest.fixture
def giphy() -> Iterator[GiphyMock]:
    """Giphy, answering only what the test registers; any other HTTP request fails."""
    yield from giphy_mock()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpInbox]:
    server = SmtpInbox().start()
    yield server
    server.stop()


@pytest.fixture
def inbox(smtp_server: SmtpInbox) -> SmtpInbox:
    """A real SMTP server on loopback, emptied for each test."""
    smtp_server.clear()
    return smtp_server


@dataclass
class FakeRedisFactory:
    """Stands in for `redis.Redis.from_url`: a fakeredis client, and a record of each call."""

    server: Any
    urls: list[str] = field(default_factory=list)
    options: list[dict[str, Any]] = field(default_factory=list)

    def from_url(self, url: str, **options: Any) -> Any:
        import fakeredis

        self.urls.append(url)
        self.options.append(options)
        return fakeredis.FakeRedis.from_url(url, server=self.server, **options)

    def client(self, **options: Any) -> Any:
        """A client of the same fake server, for the test's own look at the data."""
        import fakeredis

        return fakeredis.FakeRedis(server=self.server, **options)

    def go_down(self) -> None:
        self.server.connected = False

    def come_back(self) -> None:
        self.server.connected = True


@pytest.fixture
def fake_redis(monkeypatch: pytest.MonkeyPatch) -> FakeRedisFactory:
    """Every `redis.Redis.from_url(...)` / `redis.from_url(...)` gets a fakeredis client."""
    import fakeredis
    import redis

    factory = FakeRedisFactory(fakeredis.FakeServer())

    def from_url(cls: type, url: str, **options: Any) -> Any:
        return factory.from_url(url, **options)

    monkeypatch.setattr(redis.Redis, "from_url", classmethod(from_url))
    monkeypatch.setattr(redis, "from_url", factory.from_url)
    return factory


@pytest.fixture
def broker(fake_redis: FakeRedisFactory) -> Iterator[TcpBroker]:
    """Celery's broker: the fake Redis of `fake_redis`, served on a free loopback port."""
    import kombu.pools

    broker = TcpBroker(fake_redis.server).start()
    yield broker
    kombu.pools.reset()
    broker.stop()


@dataclass
class RedisOutage:
    """Redis URLs on loopback that fail the ways a real outage does."""

    refused: str  # nothing listens there: the connection is refused at once
    silent: str  # connections are accepted and nothing ever answers: a hung Redis
    unreachable: str  # the TCP handshake never completes: a host that has gone away


@pytest.fixture
def redis_outage() -> Iterator[RedisOutage]:
    """Three Redis URLs that do not work: refused, silent and unreachable."""
    import socket

    def listening(backlog: int) -> socket.socket:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(backlog)
        return server

    def url(sock: socket.socket) -> str:
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    refused = url(probe)
    probe.close()
    silent = listening(16)  # never accepts: the kernel completes handshakes, nobody reads
    # A backlog of 0 whose queue is already full: the kernel drops every further SYN, so a
    # connection attempt waits until its own timeout, as with a host that is gone.
    unreachable = listening(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(unreachable.getsockname())
        fillers.append(filler)
    try:
        yield RedisOutage(refused, url(silent), url(unreachable))
    finally:
        for sock in [silent, unreachable, *fillers]:
            sock.close()


@pytest.fixture
def run_worker() -> Any:
    """`with run_worker(celery_app):` runs a real Celery worker in this process."""
    return worker_running


@pytest.fixture
def app_config(inbox: SmtpInbox, tmp_path: Path) -> dict[str, Any]:
    """The config a test app gets: test keys, and mail to the test inbox."""
    return {
        "TESTING": True,
        "SECRET_KEY": "kata-test-secret-not-for-any-real-app",
        # Where the reference app (stage 04 on) keeps the key it makes in debug mode without
        # SECRET_KEY: in the test's own folder, never in the kata's.
        "SECRET_KEY_FILE": str(tmp_path / "instance" / "secret_key"),
        "GIPHY_API_KEY": GIPHY_TEST_KEY,
        "MAIL_SERVER": inbox.host,
        "MAIL_PORT": inbox.port,
        # Stage 04's solution on protects the form with a CSRF token (Flask-WTF). Tests post
        # the form directly; the test of the protection turns it back on.
        "WTF_CSRF_ENABLED": False,
        # Stage 06's solution on limits how many forms a client or an address may send
        # (Flask-Limiter). Tests send many; the tests of the limits turn them back on.
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def celery_app_config(broker: TcpBroker, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Config for an app with Celery: REDIS_URL is the test broker; worker settings for tests."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery would prefer it to broker_url
    return {"REDIS_URL": broker.url, "CELERY": copy.deepcopy(CELERY_TEST_CONF)}


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    from workit import create_app

    app = create_app(app_config)
    yield app
    celery = app.extensions.get("celery")
    if celery is not None and hasattr(celery, "close"):
        celery.close()


def celery_of(app: Any) -> Any:
    """The Celery app create_app bound to `app`, or a failure that says what is missing."""
    from celery import Celery

    celery = app.extensions.get("celery")
    assert celery is not None, (
        "create_app(...) gave a Flask app with no Celery app: app.extensions has no 'celery'. "
        "Write celery_init_app(app) in workit/celery_app.py and call it in create_app, where "
        "the TODO(03_worker) is, so every Flask app gets its own Celery app."
    )
    assert isinstance(celery, Celery), (
        f"app.extensions['celery'] is {celery!r}; expected the celery.Celery app that "
        "celery_init_app(app) made for this Flask app."
    )
    return celery


@pytest.fixture(name="celery_of")
def celery_of_fixture() -> Callable[[Any], Any]:
    """`celery_of(app)`: the Celery app create_app bound to `app`, or a failure that says why."""
    return celery_of


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()
