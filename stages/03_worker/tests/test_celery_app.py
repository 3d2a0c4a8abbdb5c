"""create_app binds a Celery app to each Flask app: its broker and settings come from app.config."""

from __future__ import annotations

import threading
from collections.abc import Callable

from celery import Celery
from flask import Flask

from workit import create_app

DEFAULT_URL = "redis://localhost:6379/0"
CONFIG_URL = "redis://kata-broker.invalid:6392/4"
ENV_URL = "redis://kata-env-redis.invalid:6393/5"
FIRST_URL = "redis://kata-first.invalid:6394/1"
SECOND_URL = "redis://kata-second.invalid:6395/2"
EAGER = (
    "task_always_eager runs every task on the spot, inside .delay(), with no queue and no "
    "worker. Celery's own testing guide calls eager mode \"by definition not suitable for "
    "unit tests\": it only emulates a worker. Leave it off; these tests run a real worker."
)


def new_celery_of(make_app: Callable[[], Flask], celery_of) -> Celery:
    """The Celery app of the Flask app `make_app()` returns, checked to be its own.

    A Celery app made once (at import, at module level, or for the first Flask app) never sees
    the config a later Flask app is given: the first failure should say so, before any
    setting is compared. So `make_app` runs twice, and the two Celery apps must differ.
    """
    earlier = celery_of(make_app())
    celery = celery_of(make_app())
    assert celery is not earlier, (
        f"two create_app(...) calls gave their Flask apps the same Celery app, {celery!r}. Is "
        "it made once, at module level when workit/celery_app.py is imported, or kept from "
        "the first call? Such an app is shared by every Flask app, and it cannot take "
        "REDIS_URL or the CELERY settings from the app create_app is making now. Make a new "
        "Celery app inside celery_init_app(app), on every call, from that app's config."
    )
    return celery


def test_create_app_binds_a_celery_app(app, celery_of):
    from workit.celery_app import celery_init_app

    assert isinstance(celery_of(app), Celery)
    other = Flask("kata_other_app")
    other.config.update(app.config)
    made = celery_init_app(other)

    kept = other.extensions.get("celery")
    assert isinstance(made, Celery) and made is kept, (
        f"celery_init_app(app) returned {made!r} and kept {kept!r} in "
        "app.extensions['celery']; expected it to return the very Celery app it keeps there."
    )
    assert made is not celery_of(app), (
        f"celery_init_app gave a second Flask app the Celery app of the first, {made!r}: one "
        "Celery app shared by every Flask app. Is it made once, at module level, when "
        "workit/celery_app.py is imported? Then it cannot take its settings from the Flask app "
        "it is given. Make a new Celery app inside celery_init_app(app), on every call."
    )


def test_each_flask_app_gets_its_own_celery_app(app_config, celery_of):
    first = new_celery_of(lambda: create_app({**app_config, "REDIS_URL": FIRST_URL}), celery_of)
    second = new_celery_of(lambda: create_app({**app_config, "REDIS_URL": SECOND_URL}), celery_of)

    assert first is not second, (
        "two create_app(...) calls gave Flask apps that share one Celery app; expected one "
        "Celery app per Flask app. Make it inside celery_init_app(app), not once at module "
        "level: a module-level app keeps the settings (and the Flask app) it was made with."
    )
    urls = (first.conf.broker_url, second.conf.broker_url)
    assert urls == (FIRST_URL, SECOND_URL), (
        f"two Flask apps, with REDIS_URL {FIRST_URL!r} and {SECOND_URL!r}, got Celery apps "
        f"with the brokers {urls!r}; expected each to use its own app's REDIS_URL."
    )


def test_the_broker_is_the_redis_url_from_the_app_config(app_config, celery_of, monkeypatch):
    monkeypatch.setenv("REDIS_URL", ENV_URL)
    celery = new_celery_of(lambda: create_app({**app_config, "REDIS_URL": CONFIG_URL}), celery_of)

    broker_url = celery.conf.broker_url
    assert broker_url == CONFIG_URL, (
        f"with REDIS_URL={CONFIG_URL!r} in the app config, the Celery app's broker_url is "
        f"{broker_url!r}; expected {CONFIG_URL!r}: app.config['REDIS_URL'], read in "
        "celery_init_app. Not a URL written in the code such as redis://localhost:6379/0 "
        "(that is only the default, in config.py), and not os.environ: the config given to "
        "create_app wins over the environment."
    )


def test_the_celery_settings_come_from_app_config_celery(app_config, celery_of):
    settings = {
        **app_config["CELERY"],
        "task_default_queue": "kata-emails",
        "worker_prefetch_multiplier": 7,
        "task_ignore_result": True,
    }
    celery = new_celery_of(lambda: create_app({**app_config, "CELERY": settings}), celery_of)

    got = {name: celery.conf[name] for name in ("task_default_queue", "worker_prefetch_multiplier")}
    expected = {"task_default_queue": "kata-emails", "worker_prefetch_multiplier": 7}
    assert got == expected, (
        f"with app.config['CELERY'] = {settings!r}, the Celery app has {got!r}; expected "
        f"{expected!r}. Apply every setting in the dict app.config['CELERY'] to the Celery "
        "app, not just the ones you know about (README, task 1; Celery's Application guide, "
        "Configuration: https://docs.celeryq.dev/en/stable/userguide/application.html#configuration)."
    )
    assert celery.conf.broker_url == app_config["REDIS_URL"], (
        f"with app.config['CELERY'] set, the broker_url became {celery.conf.broker_url!r}; "
        f"expected it to stay app.config['REDIS_URL'], {app_config['REDIS_URL']!r}: apply "
        "the CELERY settings on top of the broker, not instead of it."
    )


def test_by_default_celery_uses_the_local_redis_and_keeps_no_results(celery_of, monkeypatch):
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    celery = new_celery_of(create_app, celery_of)

    assert celery.conf.broker_url == DEFAULT_URL, (
        f"with no REDIS_URL anywhere, the Celery app's broker_url is "
        f"{celery.conf.broker_url!r}; expected {DEFAULT_URL!r}, the default REDIS_URL in "
        "config.py, where `redis-server` listens out of the box."
    )
    assert celery.conf.task_ignore_result is True, (
        f"with the default settings, task_ignore_result is {celery.conf.task_ignore_result!r}; "
        "expected True, from app.config['CELERY'] (config.py): nobody reads what the email "
        "task returns, so Celery should not try to store it."
    )
    eager = celery.conf.task_always_eager
    assert not eager, EAGER


def test_every_thread_finds_the_app_s_celery_app(app, celery_of):
    celery = celery_of(app)
    seen = []

    def look() -> None:
        from celery import current_app

        seen.append(current_app._get_current_object())

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(5)

    assert seen == [celery], (
        f"in a new thread, celery.current_app is {seen[0] if seen else None!r}, not the Celery "
        f"app of the latest Flask app, {celery!r}. Flask's server handles each request in a "
        "thread of its own, and a task that belongs to no app of its own uses the current Celery "
        "app of the thread it is called from. Make the new app the one every thread finds "
        "(README, task 1; Celery's Application guide: "
        "https://docs.celeryq.dev/en/stable/userguide/application.html)."
    )
