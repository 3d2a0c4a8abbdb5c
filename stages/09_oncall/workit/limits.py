"""Limits on sending (issue 20): a few emails a minute from one client, a few an hour to one address.

The form mails whatever address anyone types, so without limits it is a tool for flooding a
stranger's inbox, and a sender whose mail looks like a flood gets its domain blocked.
Flask-Limiter counts each POST /mailers in Redis (a moving window), so the limits hold across
every web process:

- per client, RATELIMIT_PER_CLIENT ("5 per minute"): by the client's IP address;
- per recipient, RATELIMIT_PER_RECIPIENT ("3 per hour"): by the address the form names, as the
  worker would send to it, in any case and without a +tag (Gob@example.com and
  gob+2@example.com are one inbox). A form that is refused anyway (400) is not counted, nor is
  the same form sent again (views.land_repeats_on_their_page answers it first).

Over a limit, Flask-Limiter raises RateLimitExceeded and views.py answers 429 with the form.
The keys are HMACs under SECRET_KEY: Redis holds neither the email address nor the IP address.

Redis down: the limits fail closed. The storage's error (StorageError) becomes a 503 with the
form (views.py), before anything is queued: the counts live in the queue's Redis (unless
RATELIMIT_STORAGE_URI says otherwise), so nothing could be queued anyway. Swallowing the error
would be no limit at all; Flask-Limiter's in-memory fallback would count in each process apart,
each with the whole limit, forgotten at every restart.

Behind a proxy, request.remote_addr is the proxy's: every client shares one limit. Set
PROXY_FIX_X_FOR to the number of proxies in front that set X-Forwarded-For, and Werkzeug's
ProxyFix takes the client's address from that header. Never without such a proxy: any client
could then name its own address, and get a limit of its own each time.

RATELIMIT_ENABLED=0 turns the limits off (the tests that send many forms do).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.errors import StorageError
from werkzeug.middleware.proxy_fix import ProxyFix

from workit.validation import InvalidForm, checked_form

TOO_MANY_FROM_YOU = "You have sent us a lot of forms in a short time."
TOO_MANY_TO_THEM = "That address has had several emails from us lately."
LIMITS = ("RATELIMIT_PER_CLIENT", "RATELIMIT_PER_RECIPIENT")

View = TypeVar("View", bound=Callable[..., object])


def _digest(kind: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    return _digest("client", get_remote_address())


def recipient() -> str | None:
    """The inbox the form would mail, or None for a form that will be refused."""
    try:
        email, _thought = checked_form()
    except InvalidForm:
        return None
    mailbox, _, domain = email.rpartition("@")
    return f"{mailbox.split('+', 1)[0]}@{domain}".casefold()


def recipient_key() -> str:
    return _digest("recipient", recipient() or "")


limiter = Limiter(
    client_key,
    strategy="moving-window",  # at most N in any window, not 2N across a window's edge
    key_prefix="workit",
    headers_enabled=False,  # views.py sets Retry-After on the 429
    swallow_errors=False,  # Redis down: an error, not "no limit" (see above)
    in_memory_fallback_enabled=False,
)


def _limit(setting: str) -> Callable[[], str]:
    return lambda: current_app.config[setting]


def limit_mailers(view: View) -> View:
    """POST /mailers, limited per client and per recipient."""
    per_recipient = limiter.limit(
        _limit("RATELIMIT_PER_RECIPIENT"),
        key_func=recipient_key,
        exempt_when=lambda: recipient() is None,
        error_message=TOO_MANY_TO_THEM,
    )
    per_client = limiter.limit(_limit("RATELIMIT_PER_CLIENT"), error_message=TOO_MANY_FROM_YOU)
    return per_client(per_recipient(view))


def seconds_to_wait() -> int:
    """Seconds until the limit this request broke lets a form through again (60 if unknown)."""
    broken = limiter.current_limit
    try:
        return max(1, math.ceil(broken.reset_at - time.time())) if broken else 60
    except StorageError:  # Redis went away since it counted the form
        return 60


def init_limits(app: Flask) -> None:
    for setting in LIMITS:
        try:
            parse_many(app.config[setting])
        except ValueError:
            raise ValueError(f"{setting}={app.config[setting]!r} is not a limit like '5 per minute'") from None
    timeout = app.config["REDIS_TIMEOUT"]
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or app.config["REDIS_URL"]
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "wrap_exceptions": True,  # every storage error is a limits.errors.StorageError
    }
    if app.config.get("PROXY_FIX_X_FOR"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])  # type: ignore[method-assign]
    limiter.init_app(app)
