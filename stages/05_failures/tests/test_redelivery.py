"""A job whose worker dies comes back: late acknowledgement and a visibility timeout.

By default a worker acknowledges a message as soon as it takes it: Redis forgets the job,
and if the worker is killed a moment later (a deploy, the OOM killer, a pulled plug) the job
is gone. With acks_late the worker acknowledges when the task has finished. Until then the
message waits in Redis's "unacked" list, and once visibility_timeout seconds have passed
since a worker took it, any worker puts it back in the queue. That is why the task must be
idempotent (test_idempotency.py): a job can now run twice.
"""

from __future__ import annotations

from workit.tasks import send_randomness_email

NAME = "workit.tasks.send_randomness_email"
TASK_2 = "README, task 2: acknowledge a job once it is done (workit/tasks.py)"
TASK_3 = "README, task 3: bring abandoned jobs back (celery_init_app, workit/celery_app.py)"


def registered(celery):
    assert NAME in celery.tasks, f"the Celery app has no task named {NAME!r}."
    return celery.tasks[NAME]


def test_a_job_is_acknowledged_only_once_it_is_done(app, celery_of):
    task = registered(celery_of(app))

    assert task.acks_late is True, (
        f"{NAME} is not acknowledged late ({task.acks_late!r}): the worker says 'done' to Redis "
        f"as soon as it takes the job, and a worker killed mid-job loses it. {TASK_2}. Set it on "
        "the task, not in app.config['CELERY']: the tests replace that dict with their own "
        "(https://docs.celeryq.dev/en/stable/userguide/tasks.html#list-of-options)."
    )
    assert task.reject_on_worker_lost is True, (
        f"{NAME} does not give a job back when its worker is lost ({task.reject_on_worker_lost!r}): "
        "when a pool process dies mid-job (SIGKILL, out of memory), Celery acknowledges the job "
        f"anyway and it is lost, late acknowledgement or not. {TASK_2}: tell the task to give "
        "such a job back to the queue (https://docs.celeryq.dev/en/stable/userguide/tasks.html#list-of-options)."
    )


def test_the_visibility_timeout_comes_from_the_environment(app_config, monkeypatch):
    from workit import create_app

    monkeypatch.delenv("CELERY_VISIBILITY_TIMEOUT", raising=False)
    default_app = create_app(app_config)
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "7")
    short_app = create_app(app_config)
    try:
        default = default_app.extensions["celery"].conf.broker_transport_options.get("visibility_timeout")
        short = short_app.extensions["celery"].conf.broker_transport_options.get("visibility_timeout")
    finally:
        default_app.extensions["celery"].close()
        short_app.extensions["celery"].close()

    backoff_max = getattr(send_randomness_email, "retry_backoff_max", 600) or 600
    assert default is not None and float(default) >= max(backoff_max, 600), (
        f"without CELERY_VISIBILITY_TIMEOUT the broker's visibility_timeout is {default!r}; "
        f"expected one at least as long as the longest wait between retries ({backoff_max} s) "
        "and as any job, an hour for instance. A job still waiting for its countdown, or "
        "still running, when the timeout passes is handed to a second worker. The app's "
        f"config has CELERY_VISIBILITY_TIMEOUT (workit/config.py). {TASK_3}."
    )
    assert short is not None and float(short) == 7, (
        f"with CELERY_VISIBILITY_TIMEOUT=7 in the environment the broker's visibility_timeout "
        f"is {short!r}; expected 7: the worker-kill test (test_real_stack.py) makes it short "
        "so that it does not wait an hour for the job to come back. Read it from the app's "
        "config (CELERY_VISIBILITY_TIMEOUT), not from a number of your own."
    )


def test_a_worker_looks_for_abandoned_jobs_at_least_once_per_visibility_timeout(app_config, monkeypatch):
    from kombu.transport.redis import Channel

    from workit import create_app

    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "7")
    short_app = create_app(app_config)
    try:
        options = dict(short_app.extensions["celery"].conf.broker_transport_options or {})
    finally:
        short_app.extensions["celery"].close()

    # kombu's Redis transport (kombu.transport.redis): a sweep every unacked_restore_interval
    # seconds (10 unless set, or when not above 0), and only every unacked_restore_throttle-th
    # sweep (10 unless set; 0 counts as 1) looks for jobs whose visibility timeout has passed.
    interval = options.get("unacked_restore_interval", Channel.unacked_restore_interval)
    if not interval or interval <= 0:
        interval = Channel.unacked_restore_interval
    throttle = options.get("unacked_restore_throttle", Channel.unacked_restore_throttle) or 1
    period = float(interval) * float(throttle)
    tuned = "unacked_restore_interval" in options or "unacked_restore_throttle" in options
    assert tuned or period <= 7, (
        f"with CELERY_VISIBILITY_TIMEOUT=7 a worker looks for abandoned jobs only about every "
        f"{period:g} s, kombu's default: a job whose worker died waits up to that long to come "
        f"back, not 7 s. {TASK_3}."
    )
    assert period <= 7, (
        f"with CELERY_VISIBILITY_TIMEOUT=7 the transport options say unacked_restore_interval="
        f"{options.get('unacked_restore_interval')!r} and unacked_restore_throttle="
        f"{options.get('unacked_restore_throttle')!r}: a worker looks for abandoned jobs about "
        f"every {period:g} s (interval x throttle, kombu's 10 for either one unset); expected "
        "at least once per visibility timeout, 7 s here. Derive them from the timeout."
    )


def transport_options(app_config, monkeypatch, own=None):
    from workit import create_app

    config = dict(app_config)
    if own is not None:
        config["CELERY"] = {**config.get("CELERY", {}), "broker_transport_options": own}
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "7")
    app = create_app(config)
    try:
        return dict(app.extensions["celery"].conf.broker_transport_options or {})
    finally:
        app.extensions["celery"].close()


def test_the_app_s_own_transport_options_win(app_config, monkeypatch):
    options = transport_options(app_config, monkeypatch, own={"socket_timeout": 2.5})

    assert options.get("visibility_timeout") is not None and float(options["visibility_timeout"]) == 7, (
        f"with CELERY_VISIBILITY_TIMEOUT=7 the broker's visibility_timeout is "
        f"{options.get('visibility_timeout')!r}; expected 7. {TASK_3}."
    )
    assert options.get("socket_timeout") == 2.5, (
        "app.config['CELERY'] asks for broker_transport_options={'socket_timeout': 2.5}, and "
        f"Celery got socket_timeout={options.get('socket_timeout')!r}: the app's own Celery "
        "settings must come last in the dict and win over the defaults (fail-fast and "
        f"visibility timeout alike). {TASK_3}."
    )


def test_the_fail_fast_transport_options_stay(app_config, monkeypatch):
    options = transport_options(app_config, monkeypatch)

    assert options.get("visibility_timeout") is not None and float(options["visibility_timeout"]) == 7, (
        f"with CELERY_VISIBILITY_TIMEOUT=7 the broker's visibility_timeout is "
        f"{options.get('visibility_timeout')!r}; expected 7. {TASK_3}."
    )
    timeouts = {key: options.get(key) for key in ("socket_connect_timeout", "socket_timeout")}
    assert all(value is not None and float(value) <= 1 for value in timeouts.values()), (
        f"the broker's transport options now say {timeouts}: step 04's fail-fast socket "
        "timeouts are gone, so .delay() with Redis away hangs the request instead of failing "
        "within a second. Keep what the dict holds already (the fail-fast options first) and "
        f"add the visibility timeout to it. {TASK_3}."
    )
