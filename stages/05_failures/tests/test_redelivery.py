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


def registered(celery):
    assert NAME in celery.tasks, f"the Celery app has no task named {NAME!r}."
    return celery.tasks[NAME]


def test_a_job_is_acknowledged_only_once_it_is_done(app, celery_of):
    task = registered(celery_of(app))

    assert task.acks_late is True, (
        f"{NAME} has acks_late={task.acks_late!r}: the worker says 'done' to Redis as soon as "
        "it takes the job, and a worker killed mid-job loses it. Add acks_late=True to "
        "@shared_task(...) (on the task, not in app.config['CELERY']: the tests replace that "
        "dict with their own settings)."
    )
    assert task.reject_on_worker_lost is True, (
        f"{NAME} has reject_on_worker_lost={task.reject_on_worker_lost!r}: when a pool "
        "process dies mid-job (SIGKILL, out of memory), Celery acknowledges the job anyway "
        "and it is lost. Add reject_on_worker_lost=True: the job goes back to the queue."
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
        "still running, when the timeout passes is handed to a second worker. In "
        "celery_init_app, put app.config['CELERY_VISIBILITY_TIMEOUT'] into "
        "broker_transport_options['visibility_timeout']."
    )
    assert short is not None and float(short) == 7, (
        f"with CELERY_VISIBILITY_TIMEOUT=7 in the environment the broker's visibility_timeout "
        f"is {short!r}; expected 7: the worker-kill test (test_real_stack.py) makes it short "
        "so that it does not wait an hour for the job to come back."
    )
