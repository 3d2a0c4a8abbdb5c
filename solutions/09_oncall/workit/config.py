"""Settings read from the environment, with development defaults where that is safe."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

MAIL_SENDER = "gob@example.com"
DEV_SECRET_KEY = "dev-only-not-secret"  # for the tests only (TESTING)
MIN_SECRET_KEY = 32  # characters: secrets.token_hex(16) and longer
MAX_FORM_BYTES = 16 * 1024  # the form is two short fields and a token: 16 KiB is plenty


class MissingSecretKey(RuntimeError):
    """SECRET_KEY is not set, and the app is neither in debug nor in testing mode."""


class WeakSecretKey(RuntimeError):
    """SECRET_KEY is shorter than MIN_SECRET_KEY, and the app is not in testing mode."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _hosts(value: str | None) -> list[str] | None:
    hosts = [host.strip() for host in (value or "").split(",") if host.strip()]
    return hosts or None


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    return {
        "SECRET_KEY": environ.get("SECRET_KEY"),  # unset: create_app asks fallback_secret_key
        # Where debug mode keeps the key it makes (unset: instance/secret_key, see below).
        "SECRET_KEY_FILE": environ.get("SECRET_KEY_FILE"),
        # CSRF protection on the form (Flask-WTF): on unless WTF_CSRF_ENABLED=0. The tests turn
        # it off in their config, except the one that checks it.
        "WTF_CSRF_ENABLED": _flag(environ.get("WTF_CSRF_ENABLED"), default=True),
        # A bigger request is refused with 413 before Flask reads it (the view shows the form).
        "MAX_CONTENT_LENGTH": MAX_FORM_BYTES,
        # The session cookie (it holds the CSRF token) stays home when another site posts to
        # us; Secure (sent over HTTPS only) when SESSION_COOKIE_SECURE=1, behind HTTPS.
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag(environ.get("SESSION_COOKIE_SECURE"), default=False),
        # The host names the app answers to, e.g. TRUSTED_HOSTS=workit.example,localhost; any
        # other Host header gets 400 (Werkzeug builds redirects from it). Unset: any host.
        "TRUSTED_HOSTS": _hosts(environ.get("TRUSTED_HOSTS")),
        "GIPHY_API_KEY": environ.get("GIPHY_API_KEY"),
        "GIPHY_TIMEOUT": float(environ.get("GIPHY_TIMEOUT", "5")),
        "MAIL_SERVER": environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(environ.get("MAIL_PORT", "1025")),
        "MAIL_TIMEOUT": float(environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_SENDER": MAIL_SENDER,
        # Where the mailer requests are kept (workit/db.py): unset, a SQLite file in the
        # instance folder; postgresql://... for PostgreSQL.
        "DATABASE_URL": environ.get("DATABASE_URL"),
        # The lookup's budget (workit/celery_app.py): Giphy's beta keys allow 100 calls an hour.
        # Giphy counts this budget for the key: every worker's calls together.
        "GIPHY_RATE_LIMIT": environ.get("GIPHY_RATE_LIMIT", "100/h") or None,
        # Seconds a lookup may take: at the soft limit it gives up and the email goes without a
        # GIF; at the hard limit the worker kills it. The email's own limit, for a hung SMTP.
        "GIPHY_SOFT_TIME_LIMIT": float(environ.get("GIPHY_SOFT_TIME_LIMIT", "20")),
        "GIPHY_TIME_LIMIT": float(environ.get("GIPHY_TIME_LIMIT", "30")),
        "MAIL_TIME_LIMIT": float(environ.get("MAIL_TIME_LIMIT", "60")),
        "REDIS_URL": environ.get("REDIS_URL", "redis://localhost:6379/0"),
        "REDIS_TIMEOUT": float(environ.get("REDIS_TIMEOUT", "1")),
        # Limits on sending (workit/limits.py, Flask-Limiter), counted in Redis: each is a limit
        # like "5 per minute" (or several: "5 per minute; 20 per day"). RATELIMIT_ENABLED=0
        # turns them off; RATELIMIT_STORAGE_URI, unset, is REDIS_URL.
        "RATELIMIT_ENABLED": _flag(environ.get("RATELIMIT_ENABLED"), default=True),
        "RATELIMIT_PER_CLIENT": environ.get("RATELIMIT_PER_CLIENT") or "5 per minute",
        "RATELIMIT_PER_RECIPIENT": environ.get("RATELIMIT_PER_RECIPIENT") or "3 per hour",
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI"),
        # Behind proxies that set X-Forwarded-For, how many (Werkzeug's ProxyFix, x_for): the
        # client's address for the limits comes from that header. 0, the default: no proxy.
        "PROXY_FIX_X_FOR": int(environ.get("PROXY_FIX_X_FOR") or "0"),
        # Seconds before a job taken by a worker that never finished it goes back to the queue
        # (see celery_init_app). The kata's worker-kill test makes it short.
        "CELERY_VISIBILITY_TIMEOUT": float(environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
        # NEW(08_schedule): given. Maintenance, run by the clock (celery beat, workit/schedule.py). A final request older
        # than RETENTION_DAYS loses its address, thought and GIF (daily at RETENTION_HOUR:00 UTC).
        # A request in flight whose row has not moved for RECONCILE_AFTER seconds counts as lost
        # (looked for every RECONCILE_EVERY seconds): longer than the visibility timeout plus
        # every retry's wait, or a request that is only slow is posted twice. Each run changes
        # MAINTENANCE_BATCH rows at most, under a lock in Redis that lives MAINTENANCE_LOCK_TTL s.
        "RETENTION_DAYS": float(environ.get("RETENTION_DAYS", "30")),
        "RETENTION_HOUR": int(environ.get("RETENTION_HOUR", "3")),
        "RECONCILE_EVERY": float(environ.get("RECONCILE_EVERY", "300")),
        "RECONCILE_AFTER": float(environ.get("RECONCILE_AFTER", "7200")),
        "MAINTENANCE_BATCH": int(environ.get("MAINTENANCE_BATCH", "100")),
        "MAINTENANCE_LOCK_TTL": float(environ.get("MAINTENANCE_LOCK_TTL", "120")),
        # NEW(09_oncall): given. The runbook's budget for one pool process of a worker: how many
        # jobs it may run, and how big it may grow (megabytes), before a fresh one takes over.
        "WORKER_PROCESS_MAX_JOBS": int(environ.get("WORKER_PROCESS_MAX_JOBS", "500")),
        "WORKER_PROCESS_MAX_MB": int(environ.get("WORKER_PROCESS_MAX_MB", "300")),
        # NEW(09_oncall): given. How long a request may wait in a queue for a worker (seconds)
        # before `GET /health/queues` calls the queues stuck.
        "QUEUE_MAX_WAIT": float(environ.get("QUEUE_MAX_WAIT", "600")),
        # NEW(09_oncall): given. How long a deploy lets a worker stop: the seconds between the
        # orchestrator's SIGTERM and its SIGKILL (its grace period).
        "WORKER_SHUTDOWN_GRACE": float(environ.get("WORKER_SHUTDOWN_GRACE", "30")),
        # Celery's own settings, lower-case as Celery names them. celery_init_app sets the
        # broker to REDIS_URL, then applies these on top.
        "CELERY": {
            "task_ignore_result": True,  # nobody reads a task's return value: store none
            "broker_connection_retry_on_startup": True,  # a worker waits for Redis to come up
            # With late acks (workit/tasks.py), take one job at a time: a job waiting in a
            # busy worker's hands is a job an idle worker cannot start.
            "worker_prefetch_multiplier": 1,
        },
    }


def fallback_secret_key(app: Flask) -> str:
    """The key for an app started without SECRET_KEY.

    In testing mode, the development key. In debug mode, a random key made on the first start
    and kept in SECRET_KEY_FILE (by default instance/secret_key, beside the workit package,
    readable by its owner only): local to this checkout, never published, the same after a
    restart and in the reloader's second process. Anywhere else the app refuses to start: a
    published key would let anyone forge the session cookie and the CSRF token, and a random
    one would break both as soon as a second process (or a restart) comes along.
    """
    if app.testing:
        return DEV_SECRET_KEY
    if app.debug:
        return _local_key(Path(app.config.get("SECRET_KEY_FILE") or Path(app.instance_path) / "secret_key"))
    raise MissingSecretKey(
        "SECRET_KEY is not set. The app signs its session cookie and the form's CSRF token "
        "with it, so it will not start without one. Set it in the environment, e.g. "
        f"SECRET_KEY={secrets.token_hex(32)} (any long random string, the same for every "
        "process), or run `flask --app workit run --debug` for local development."
    )


def _local_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:  # O_EXCL: of two processes starting at once, one writes and both read its key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as out:
        out.write(key)
    return key


def check_secret_key(app: Flask) -> None:
    """Refuse a short SECRET_KEY outside testing: it can be guessed, then the cookies forged."""
    key = app.config["SECRET_KEY"]
    if app.testing or len(key) >= MIN_SECRET_KEY:
        return
    raise WeakSecretKey(
        f"SECRET_KEY is {len(key)} characters long; it needs at least {MIN_SECRET_KEY}, or it "
        f"can be guessed. Make one with: python -c 'import secrets; print(secrets.token_hex(32))'"
    )
