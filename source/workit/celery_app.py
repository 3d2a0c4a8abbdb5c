#> file 03-
#> extra 03
"""Celery, bound to the Flask app: settings from app.config, every task run in an app context.

The pattern from Flask's "Background Tasks with Celery" page: one Celery app per Flask app,
made by the app factory and kept in `app.extensions["celery"]`.
#> or todo 03
"""Celery, bound to the Flask app: its settings from app.config, its tasks run in an app context.

One Celery app per Flask app, made by the app factory and kept in `app.extensions`: the pattern
of Flask's guide "Background Tasks with Celery" (linked from the README).
#> end
"""

from __future__ import annotations

#> stub 03.1
from celery import Celery
#> or task 07.1
from collections.abc import Mapping
#> or stub 07.1
from collections.abc import Mapping  # NEW(07_scale)
#> or extra 08
from contextlib import contextmanager
#> or task 03.1
from typing import Any
#> or extra 03

#> or task 03.1
from celery import Celery, Task
#> end
from flask import Flask
#> extra 08
from kombu.transport import redis as kombu_redis
#> end

#> 08-
from workit.schedule import beat_schedule  # NEW(08_schedule): your task 1

#> or extra 08

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


#> or extra 08
REDIS_TRANSPORT = f"{__name__}:RedisTransport"  # Celery's broker_transport, for a redis:// broker
#> or task 03.1
EXTENSION = "celery"
#> or extra 04

# Queueing a job must fail fast when Redis is away: a request is waiting for it. Short socket
# timeouts, and one quick second try (for a pooled connection that Redis closed meanwhile), so
# .delay() gives up within a second and the view can answer 503. Settings in app.config
# ["CELERY"] win over these.
BROKER_TIMEOUT = 0.3  # seconds; Redis on the same network answers in a millisecond
FAIL_FAST_TRANSPORT = {"socket_connect_timeout": BROKER_TIMEOUT, "socket_timeout": BROKER_TIMEOUT}
FAIL_FAST_PUBLISH = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
#> or extra 03

#> or extra 07
# Two queues, one per kind of work: a slow or rate-limited Giphy never holds up the emails.
#> or todo 07
# NEW(07_scale): two queues, one per kind of work, and the names of the tasks that go to them.
#> or 07-
GIPHY_QUEUE, EMAIL_QUEUE = "giphy", "email"
LOOK_UP, SEND = "workit.tasks.look_up_gif", "workit.tasks.send_randomness_email"
#> or extra 07 -07
# A worker started without -Q reads both queues (one worker for everything, in development).
#> or todo 07
# NEW(07_scale): a worker started without -Q reads both queues (one worker for everything).
#> or 07
QUEUES = {GIPHY_QUEUE: {}, EMAIL_QUEUE: {}}
#> or 08-
# NEW(08_schedule): the clock's jobs (workit/maintenance.py), on a queue of their own: `python -m workit.workers maintenance`.
MAINTENANCE_QUEUE = "maintenance"
MAINTENANCE_TASKS = "workit.maintenance.*"
# NEW(08_schedule): maintenance added. A worker started without -Q reads every queue (one worker for everything, in development).
QUEUES = {GIPHY_QUEUE: {}, EMAIL_QUEUE: {}, MAINTENANCE_QUEUE: {}}
#> or 07-


def routes() -> dict[str, Any]:
#> or task 07.2
    """task_routes: each task's queue, by the task's name."""
#> or stub 07.2
    """task_routes: each task's queue, by the task's name (README, task 2)."""
    raise NotImplementedError("Step 07_scale, task 2: write routes() in workit/celery_app.py")
#> or task 07.2 -07
    return {LOOK_UP: {"queue": GIPHY_QUEUE}, SEND: {"queue": EMAIL_QUEUE}}
#> or 08-
    return {
        LOOK_UP: {"queue": GIPHY_QUEUE},
        SEND: {"queue": EMAIL_QUEUE},
#> or task 08.1
        # Unrouted, beat's messages would wait in the queue "celery", which no worker reads.
        MAINTENANCE_TASKS: {"queue": MAINTENANCE_QUEUE},
#> or stub 08.1
        # TODO(08_schedule), task 1: the maintenance tasks (MAINTENANCE_TASKS) go to MAINTENANCE_QUEUE.
#> or 08-
    }
#> or 07-


def limits(config: Mapping[str, Any]) -> dict[str, Any]:
#> or task 07.3
    """task_annotations: each task's limits, from the Flask app's config."""
    return {
        LOOK_UP: {
            "rate_limit": config["GIPHY_RATE_LIMIT"],
            "soft_time_limit": config["GIPHY_SOFT_TIME_LIMIT"],
            "time_limit": config["GIPHY_TIME_LIMIT"],
        },
        SEND: {"time_limit": config["MAIL_TIME_LIMIT"]},
    }
#> or stub 07.3
    """task_annotations: each task's limits, from the Flask app's config (README, task 3)."""
    # TODO(07_scale): task 3. No limits yet, so that tasks 1 and 2 run without them: the lookup
    # may call Giphy as often and as long as it likes, and the email may hang for ever.
    return {}
#> or 07-

#> end

def celery_init_app(app: Flask) -> Celery:
    #> task 03.1
    class FlaskTask(Task):
        """A task that runs inside `app`'s app context, so `current_app` works in it."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # include: the modules a worker imports at start-up, so it knows their tasks.
    #> or stub 03.1
    """Make a new Celery app for `app`, keep it in `app.extensions`, and return it.

    README, task 1 (the app and its settings) and task 2 (the app context of every task).
    """
    raise NotImplementedError(
        "Step 03_worker, task 1: write celery_init_app(app) in workit/celery_app.py, and call it "
        "in create_app (workit/__init__.py). See stages/03_worker/README.md"
    )
    #> or task 03.1 -07
    celery_app = Celery(app.name, task_cls=FlaskTask, include=["workit.tasks"])
    #> or task 03.1 -04:stage
    celery_app.config_from_object({"broker_url": app.config["REDIS_URL"], **app.config["CELERY"]})
    #> or 08-
    celery_app = Celery(app.name, task_cls=FlaskTask, include=["workit.tasks", "workit.maintenance"])  # NEW(08_schedule)
    #> or extra 04
    settings = {"broker_url": app.config["REDIS_URL"], **app.config["CELERY"]}
    #> or task 05.3
    visibility = app.config["CELERY_VISIBILITY_TIMEOUT"]
    #> or extra 04
    settings["broker_transport_options"] = {
        **FAIL_FAST_TRANSPORT,
    #> or task 05.3
        # A job whose worker died before acknowledging it (tasks use acks_late) goes back to
        # the queue this many seconds after the worker took it. Keep it longer than any job,
        # retry countdowns included (tasks.BACKOFF_MAX), or a slow job is handed out twice.
        "visibility_timeout": visibility,
        # How often a worker looks for such jobs; kombu's default is about every 100 s.
        "unacked_restore_interval": max(1.0, min(10.0, visibility / 4)),
        "unacked_restore_throttle": 1,
    #> or stub 05.3
        # TODO(05_failures): task 3 of the README: a job whose worker died goes back to the queue
        # after the configured visibility timeout, and soon after it, not minutes later.
    #> or extra 04
        **settings.get("broker_transport_options", {}),
    }
    settings.setdefault("task_publish_retry_policy", FAIL_FAST_PUBLISH)
    #> or stub 07.2
    # NEW(07_scale): both queues declared.
    #> or 07-
    settings.setdefault("task_queues", QUEUES)
    #> or task 07.2
    settings["task_routes"] = routes()
    settings["task_annotations"] = limits(app.config)
    #> or stub 07.2
    # TODO(07_scale): task 2, the routes, and task 3, the limits, in the settings.
    #> or 08
    # NEW(08_schedule): the clock (celery beat) reads its schedule here; its hours are UTC hours.
    settings.setdefault("timezone", "UTC")
    #> or task 09.5
    # The clock's time zone: RETENTION_HOUR is a UTC hour, whatever time zone the servers (TZ),
    # their logs or the people reading them live in. A zone with summer time would move the run.
    settings.setdefault("timezone", "UTC")
    #> or stub 09.5
    # OPS-311 (09_oncall): the clock in the servers' own time (TZ), like everyone's watch and Flower.
    import os

    settings.setdefault("timezone", os.environ.get("TZ") or "UTC")
    #> or task 08.1
    settings.setdefault("beat_schedule", beat_schedule(app.config))
    #> or stub 08.1
    # TODO(08_schedule), task 1: beat's schedule (the beat_schedule setting), unless settings has one.
    #> or task 09.1
    # Nobody reads a job's return value (the request's row is the truth), so none is kept.
    #> or stub 09.1
    # OPS-207 (09_oncall): Flower's "Result" column was empty. Keep every job's result, for debugging.
    settings.update(result_backend=app.config["REDIS_URL"], task_ignore_result=False, result_expires=None)
    #> or task 09.2
    # A pool process is replaced after WORKER_PROCESS_MAX_JOBS jobs, or once it has grown past
    # WORKER_PROCESS_MAX_MB (Celery counts kilobytes): what a job leaks goes back to the system.
    settings.setdefault("worker_max_tasks_per_child", app.config["WORKER_PROCESS_MAX_JOBS"])
    settings.setdefault("worker_max_memory_per_child", app.config["WORKER_PROCESS_MAX_MB"] * 1024)
    #> or task 09.7
    # A deploy sends a worker SIGTERM and kills it WORKER_SHUTDOWN_GRACE seconds later. The jobs
    # still running after half of it are cut short and handed back to Redis at once (the cold
    # shutdown; workers.py makes SIGTERM start it): the other half is the hand-back's own time.
    settings.setdefault("worker_soft_shutdown_timeout", app.config["WORKER_SHUTDOWN_GRACE"] / 2)
    #> or extra 08
    if str(settings.get("broker_url", "")).startswith("redis://"):
        settings.setdefault("broker_transport", REDIS_TRANSPORT)
    #> or extra 04
    celery_app.config_from_object(settings)
    #> or task 03.1
    # The default app is the one @shared_task tasks use in any thread, such as a request's.
    celery_app.set_default()
    app.extensions[EXTENSION] = celery_app
    return celery_app
    #> end
