"""get_redis(): one Redis client per app, made on first use, from REDIS_URL, with short timeouts."""

from __future__ import annotations

import sys

import fakeredis
import redis

from workit import create_app
from workit.redis_client import get_redis

DEFAULT_URL = "redis://localhost:6379/0"
OTHER_URL = "redis://kata-other-redis.invalid:6391/5"


def _is_client(value: object) -> bool:
    try:
        return isinstance(value, redis.Redis)
    except Exception:  # a proxy such as current_app, outside any app context
        return False


def _workit_modules() -> list[tuple[str, object]]:
    return [
        (module_name, module)
        for module_name, module in sorted(sys.modules.items())
        if module is not None and (module_name == "workit" or module_name.startswith("workit."))
    ]


def _module_clients() -> dict[str, object]:
    """The Redis clients held in module-level variables of workit, by `module.name`.

    A client kept in a module-level dict, list or set counts too (`module.name[key]`).
    """
    found = {}
    for module_name, module in _workit_modules():
        for name, value in list(vars(module).items()):
            if name.startswith("__"):
                continue
            if _is_client(value):
                found[f"{module_name}.{name}"] = value
                continue
            try:
                if isinstance(value, dict):
                    items = list(value.items())
                elif isinstance(value, (list, tuple, set, frozenset)):
                    items = list(enumerate(value))
                else:
                    continue
            except Exception:
                continue
            for key, item in items:
                if _is_client(item):
                    found[f"{module_name}.{name}[{key!r}]"] = item
    return found


def _function_caches() -> list[str]:
    """The workit functions wrapped in functools.cache / lru_cache that hold something."""
    found = []
    for module_name, module in _workit_modules():
        for name, value in list(vars(module).items()):
            try:
                info = getattr(value, "cache_info", None)
                home = getattr(value, "__module__", None) or ""
                if not callable(info) or not (home == "workit" or home.startswith("workit.")):
                    continue  # not a function cache, or one of a library (urlsplit has one)
                size = info().currsize
            except Exception:
                continue
            if size:
                found.append(f"{module_name}.{name}")
    return found


def _origin(client: object, just_made: bool = False) -> str:
    """Where a client kept in a module came from, as far as the test can tell."""
    if just_made:
        return "made for the first app that asked, and handed to every app after it"
    if isinstance(client, fakeredis.FakeRedis):
        return "made for an app of an earlier test, and kept for every app since"
    return "made when the module was imported, before any app or its config existed"


def _shared(clients: dict[str, object], just_made: bool = False) -> str:
    """Why a client in a module variable is wrong, for a failure message."""
    names = ", ".join(f"{name} ({_origin(client, just_made)})" for name, client in clients.items())
    return (
        f"a Redis client sits in a module-level variable: {names}. Make it inside get_redis(), "
        "on the app's first call, and keep it on the app (current_app.extensions). A module "
        "variable is one per process, not one per app: it cannot follow the REDIS_URL and "
        "REDIS_TIMEOUT of the app that asks (current_app.config), and every app shares it"
    )


def _made(fake_redis) -> str:
    """What the test saw of the clients made so far, for a failure message."""
    if not fake_redis.urls:
        kept = _module_clients()
        if kept:
            return f"no client of its own: {_shared(kept)}"
        return (
            "no client at all: the tests see only the clients redis-py makes from a URL, so "
            "build yours from REDIS_URL that way (README, task 1)"
        )
    return f"{len(fake_redis.urls)} client(s), for the URLs {fake_redis.urls!r}"


def test_the_client_belongs_to_the_app_not_to_a_module(app_config, fake_redis, redis_url):
    before = _module_clients()
    app = create_app(app_config)
    with app.app_context():
        client = get_redis()
    after = _module_clients()

    assert not before, f"before any app asked for one, {_shared(before)}."
    assert not after, f"after one get_redis() call, {_shared(after, just_made=True)}."
    assert not hasattr(get_redis, "cache_info"), (
        "get_redis is wrapped in functools.cache (or lru_cache): the cache is one per "
        "process, so every app gets the client of the first one, whatever its REDIS_URL. "
        "Keep the client on the app, in current_app.extensions."
    )
    cached = _function_caches()
    assert not cached, (
        f"after one get_redis() call, a function cache holds something: {', '.join(cached)} "
        "(functools.cache or lru_cache). A function cache is one per process, not one per "
        "app: every app with the same arguments gets the client made for the first one, and "
        "it outlives the app. Keep the client on the app, in current_app.extensions."
    )
    assert fake_redis.urls == [redis_url] and isinstance(client, redis.Redis), (
        f"get_redis() made {_made(fake_redis)} and returned {client!r}; expected one "
        f"redis.Redis client, made in that call for the app's REDIS_URL, [{redis_url!r}]."
    )


def test_get_redis_connects_to_the_redis_url_in_the_app_config(app, fake_redis, redis_url):
    with app.app_context():
        client = get_redis()

    assert fake_redis.urls == [redis_url], (
        f"with REDIS_URL={redis_url!r} in the app config, get_redis() made {_made(fake_redis)}; "
        f"expected one client for [{redis_url!r}]: current_app.config['REDIS_URL'], never a "
        "URL written in the code (on a server, Redis is rarely on localhost)."
    )
    assert isinstance(client, redis.Redis), (
        f"get_redis() returned {client!r}; expected the redis.Redis client made from the "
        "app's REDIS_URL (README, task 1)."
    )


def test_without_redis_url_the_app_uses_the_local_redis(app_config, fake_redis, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    config = {name: value for name, value in app_config.items() if name != "REDIS_URL"}
    app = create_app(config)

    with app.app_context():
        get_redis()

    assert fake_redis.urls == [DEFAULT_URL], (
        f"with no REDIS_URL in the environment or the config, get_redis() made "
        f"{_made(fake_redis)}; expected [{DEFAULT_URL!r}], the default that create_app puts "
        "in current_app.config['REDIS_URL'] (where `redis-server` listens out of the box)."
    )


def test_create_app_makes_no_client_until_get_redis_is_called(app_config, fake_redis, redis_url):
    app = create_app(app_config)

    assert fake_redis.urls == [], (
        f"create_app(...) already made {_made(fake_redis)}; expected none until the first "
        "get_redis() call. Make the client on first use: the app must start even when Redis "
        "is not running yet, and its config can still change after create_app."
    )
    with app.app_context():
        get_redis()
    assert fake_redis.urls == [redis_url], (
        f"the first get_redis() call made {_made(fake_redis)}; expected one client, for "
        f"[{redis_url!r}]."
    )


def test_get_redis_gives_the_same_client_every_time(app, fake_redis):
    with app.app_context():
        first, again = get_redis(), get_redis()
    with app.app_context():  # the next request gets a new app context, but the same app
        later = get_redis()

    made = f"{len(fake_redis.urls)} clients" if fake_redis.urls else _made(fake_redis)
    assert len(fake_redis.urls) == 1, (
        f"three get_redis() calls on one app (two in one app context, one in the next) made "
        f"{made}; expected 1. Each client keeps its own pool of "
        "connections: keep the one you made in current_app.extensions and hand it back. "
        "(flask.g does not keep it: g lasts only one app context, one request.)"
    )
    assert first is again is later, (
        "get_redis() returned different objects for the same app; expected the very same "
        "client each time."
    )


def test_each_app_gets_its_own_client(app_config, fake_redis, redis_url):
    app = create_app(app_config)
    other_app = create_app({**app_config, "REDIS_URL": OTHER_URL})

    with app.app_context():
        client = get_redis()
    with other_app.app_context():
        other_client = get_redis()
    with app.app_context():
        client_again = get_redis()

    assert fake_redis.urls == [redis_url, OTHER_URL], (
        f"two apps, with REDIS_URL {redis_url!r} and {OTHER_URL!r}, made {_made(fake_redis)}; "
        f"expected one client each, [{redis_url!r}, {OTHER_URL!r}]. A module-level variable "
        "or @functools.cache shares one client between all apps: keep it on the app, in "
        "current_app.extensions."
    )
    assert client is client_again and client is not other_client, (
        "each app should keep its own client: the first app got a different object the "
        "second time, or both apps got the same one."
    )


def test_two_apps_with_the_same_config_get_two_clients(app_config, fake_redis, redis_url):
    app = create_app(app_config)
    twin = create_app(app_config)

    with app.app_context():
        client = get_redis()
    with twin.app_context():
        twin_client = get_redis()

    kept = _module_clients()
    where = f" It is kept outside the apps: {_shared(kept)}." if kept else ""
    assert client is not twin_client and fake_redis.urls == [redis_url, redis_url], (
        f"two apps made by create_app with the same config got "
        f"{'the same client' if client is twin_client else 'different clients'}, and "
        f"get_redis() made {_made(fake_redis)}; expected one client per app, two for "
        f"[{redis_url!r}, {redis_url!r}]. A client kept by URL, in a module-level variable "
        "or a function cache, is shared by every app with that URL and outlives them: keep "
        f"it on the app, in current_app.extensions.{where}"
    )


def test_the_client_gives_up_after_a_short_timeout(app, fake_redis):
    with app.app_context():
        get_redis()

    assert fake_redis.options, f"get_redis() made {_made(fake_redis)}."
    options = fake_redis.options[0]
    for name in ("socket_connect_timeout", "socket_timeout"):
        value = options.get(name)
        assert isinstance(value, (int, float)) and 0 < value <= 2, (
            f"get_redis() made its client with {name}={value!r} (all options: {options!r}); "
            f"expected {name} between 0 and 2 seconds. Without it, a Redis that does not "
            "answer keeps every request waiting, and /health can never say Redis is down."
        )


def test_the_timeouts_come_from_the_redis_timeout_setting(app_config, fake_redis):
    app = create_app({**app_config, "REDIS_TIMEOUT": 0.25})

    with app.app_context():
        get_redis()

    assert fake_redis.options, f"get_redis() made {_made(fake_redis)}."
    options = fake_redis.options[0]
    got = {name: options.get(name) for name in ("socket_connect_timeout", "socket_timeout")}
    assert got == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}, (
        f"with REDIS_TIMEOUT=0.25 in the app config, get_redis() made its client with "
        f"{got!r}; expected both 0.25: current_app.config['REDIS_TIMEOUT'], not a number "
        "written in the code."
    )
