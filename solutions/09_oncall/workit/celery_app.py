"""Celery, bound to the Flask app: settings from app.config, every task run in an app context.

The pattern from Flask's "Background Tasks with Celery" page: one Celery app per Flask app,
made by the app factory and kept in `app.extensions["celery"]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

from celery import Celery, Task
from flask import Flask
from kombu.transport import redis as kombu_redis

from workit.schedule import beat_schedule  # NEW(08_schedule): your task 1


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, with one redis.Redis client for its commands, not one per command.

    To publish a job, kombu's channel makes a new redis.Redis object (with its table of about 170
    reply callbacks), uses it for one LPUSH and drops it: the largest piece of work that POST
    /mailers repeats for nothing (a profile of the request shows it). A
    redis.Redis object is safe to share between threads (each command borrows a connection from
    the pool), so the channel keeps one.
    """

    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Any:  # a generator, made a context manager
        if client:
            yield client
            return
        if self._shared_client is None:
            self._shared_client = self._create_client()
        yield self._shared_client


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


REDIS_TRANSPORT = f"{__name__}:RedisTransport"  # Celery's broker_transport, for a redis:// broker
EXTENSION = "celery"

# Queueing a job must fail fast when Redis is away: a request is waiting for it. Short socket
# timeouts, and one quick second try (for a pooled connection that Redis closed meanwhile), so
# .delay() gives up within a second and the view can answer 503. Settings in app.config
# ["CELERY"] win over these.
BROKER_TIMEOUT = 0.3  # seconds; Redis on the same network answers in a millisecond
FAIL_FAST_TRANSPORT = {"socket_connect_timeout": BROKER_TIMEOUT, "socket_timeout": BROKER_TIMEOUT}
FAIL_FAST_PUBLISH = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}

# Two queues, one per kind of work: a slow or rate-limited Giphy never holds up the emails.
GIPHY_QUEUE, EMAIL_QUEUE = "giphy", "email"
LOOK_UP, SEND = "workit.tasks.look_up_gif", "workit.tasks.send_randomness_email"
# NEW(08_schedule): the clock's jobs (workit/maintenance.py), on a queue of their own: `python -m workit.workers maintenance`.
MAINTENANCE_QUEUE = "maintenance"
MAINTENANCE_TASKS = "workit.maintenance.*"
# NEW(08_schedule): maintenance added. A worker started without -Q reads every queue (one worker for everything, in development).
QUEUES = {GIPHY_QUEUE: {}, EMAIL_QUEUE: {}, MAINTENANCE_QUEUE: {}}


def routes() -> dict[str, Any]:
    """task_routes: each task's queue, by the task's name."""
    return {
        LOOK_UP: {"queue": GIPHY_QUEUE},
        SEND: {"queue": EMAIL_QUEUE},
        # Unrouted, beat's messages would wait in the queue "celery", which no worker reads.
        MAINTENANCE_TASKS: {"queue": MAINTENANCE_QUEUE},
    }


def limits(config: Mapping[str, Any]) -> dict[str, Any]:
    """task_annotations: each task's limits, from the Flask app's config."""
    return {
        LOOK_UP: {
            "rate_limit": config["GIPHY_RATE_LIMIT"],
            "soft_time_limit": config["GIPHY_SOFT_TIME_LIMIT"],
            "time_limit": config["GIPHY_TIME_LIMIT"],
        },
        SEND: {"time_limit": config["MAIL_TIME_LIMIT"]},
    }


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        """A task that runs inside `app`'s app context, so `current_app` works in it."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # include: the modules a worker imports at start-up, so it knows their tasks.
    celery_app = Celery(app.name, task_cls=FlaskTask, include=["workit.tasks", "workit.maintenance"])  # NEW(08_schedule)
    settings = {"broker_url": app.config["REDIS_URL"], **app.config["CELERY"]}
    visibility = app.config["CELERY_VISIBILITY_TIMEOUT"]
    settings["broker_transport_options"] = {
        **FAIL_FAST_TRANSPORT,
        # A job whose worker died before acknowledging it (tasks use acks_late) goes back to
        # the queue this many seconds after the worker took it. Keep it longer than any job,
        # retry countdowns included (tasks.BACKOFF_MAX), or a slow job is handed out twice.
        "visibility_timeout": visibility,
        # How often a worker looks for such jobs; kombu's default is about every 100 s.
        "unacked_restore_interval": max(1.0, min(10.0, visibility / 4)),
        "unacked_restore_throttle": 1,
        **settings.get("broker_transport_options", {}),
    }
    settings.setdefault("task_publish_retry_policy", FAIL_FAST_PUBLISH)
    settings.setdefault("task_queues", QUEUES)
    settings["task_routes"] = routes()
    settings["task_annotations"] = limits(app.config)
    # The clock's time zone: RETENTION_HOUR is a UTC hour, whatever time zone the servers (TZ),
    # their logs or the people reading them live in. A zone with summer time would move the run.
    settings.setdefault("timezone", "UTC")
    settings.setdefault("beat_schedule", beat_schedule(app.config))
    # Nobody reads a job's return value (the request's row is the truth), so none is kept.
    # A pool process is replaced after WORKER_PROCESS_MAX_JOBS jobs, or once it has grown past
    # WORKER_PROCESS_MAX_MB (Celery counts kilobytes): what a job leaks goes back to the system.
    settings.setdefault("worker_max_tasks_per_child", app.config["WORKER_PROCESS_MAX_JOBS"])
    settings.setdefault("worker_max_memory_per_child", app.config["WORKER_PROCESS_MAX_MB"] * 1024)
    # A deploy sends a worker SIGTERM and kills it WORKER_SHUTDOWN_GRACE seconds later. The jobs
    # still running after half of it are cut short and handed back to Redis at once (the cold
    # shutdown; workers.py makes SIGTERM start it): the other half is the hand-back's own time.
    settings.setdefault("worker_soft_shutdown_timeout", app.config["WORKER_SHUTDOWN_GRACE"] / 2)
    if str(settings.get("broker_url", "")).startswith("redis://"):
        settings.setdefault("broker_transport", REDIS_TRANSPORT)
    celery_app.config_from_object(settings)
    # The default app is the one @shared_task tasks use in any thread, such as a request's.
    celery_app.set_default()
    app.extensions[EXTENSION] = celery_app
    return celery_app
