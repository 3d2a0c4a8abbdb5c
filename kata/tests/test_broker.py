"""The test broker and worker: a message queued over real Redis protocol, run by a real worker."""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery

from kata.broker import CELERY_TEST_CONF, TcpBroker


def make_app(broker: TcpBroker, done: threading.Event, seen: list[Any]) -> tuple[Celery, Any]:
    app = Celery("kata-broker-test", set_as_current=False)
    app.conf.update(broker_url=broker.url, **CELERY_TEST_CONF)

    @app.task(name="kata.tests.remember", shared=False)
    def remember(email: str, thought: str) -> None:
        seen.append((email, thought))
        done.set()

    return app, remember


def test_a_queued_task_is_readable_then_run_by_a_worker(broker: TcpBroker, run_worker: Any) -> None:
    done, seen = threading.Event(), []
    app, remember = make_app(broker, done, seen)
    remember.delay("ada@example.com", "cats")
    [message] = broker.queued()
    assert (message.task, message.args, message.kwargs) == ("kata.tests.remember", ["ada@example.com", "cats"], {})
    with run_worker(app):
        assert done.wait(5), "the worker did not run the task within 5 s"
    assert seen == [("ada@example.com", "cats")]
    assert broker.queued() == []


def test_messages_are_listed_oldest_first(broker: TcpBroker) -> None:
    app, remember = make_app(broker, threading.Event(), [])
    for thought in ("one", "two", "three"):
        remember.delay("ada@example.com", thought)
    assert [m.args[1] for m in broker.queued()] == ["one", "two", "three"]
    app.pool.force_close_all()


def test_the_app_and_the_worker_share_the_fake_redis(broker: TcpBroker, fake_redis: Any) -> None:
    import redis

    redis.Redis.from_url(broker.url).set("seen-by", "app")
    assert broker.client().get("seen-by") == b"app"
