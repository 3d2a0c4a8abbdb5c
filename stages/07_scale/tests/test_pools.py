"""Task 5: one kind of worker per queue: threads for the lookups, prefork for the emails."""

from __future__ import annotations

import pytest

TASK_5 = "README, task 5: WORKERS and worker_argv(queue) in workit/workers.py"
IO_POOLS = ("threads", "gevent", "eventlet")


def parsed(queue: str) -> dict:
    """worker_argv(queue) read as `celery worker` reads its pool, concurrency and queues."""
    import argparse

    from workit.workers import worker_argv

    argv = worker_argv(queue)
    assert argv and argv[0] == "worker", f"worker_argv({queue!r}) is {argv!r}; expected `celery worker`'s arguments, from 'worker' on."
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-Q", "--queues", action="append", default=[])
    parser.add_argument("-P", "--pool", default="prefork")
    parser.add_argument("-c", "--concurrency", type=int, default=0)
    params = vars(parser.parse_known_args(list(argv[1:]))[0])
    params["queues"] = [q for item in params["queues"] for q in item.split(",") if q]
    return params


@pytest.mark.parametrize("queue", ["giphy", "email"])
def test_each_worker_reads_its_own_queue_only(queue):
    params = parsed(queue)

    assert params["queues"] == [queue], (
        f"the {queue} worker reads the queues {params['queues']}; expected [{queue!r}] alone "
        f"(-Q / --queues). Without it a worker reads every queue, and a lookup lands in a "
        f"pool sized for emails. {TASK_5}."
    )


def test_the_giphy_workers_wait_for_many_lookups_at_once_in_threads():
    params = parsed("giphy")

    assert str(params.get("pool")) in IO_POOLS and (params.get("concurrency") or 0) >= 16, (
        f"the giphy worker runs pool {params.get('pool')!r} at concurrency {params.get('concurrency')!r}; "
        "expected threads (or gevent), at 16 or more: a lookup waits on the network, and threads wait "
        f"cheaply, many to a process. A process for each wait is memory for nothing. {TASK_5}."
    )


def test_the_email_workers_run_in_prefork_where_time_limits_hold():
    params = parsed("email")

    assert str(params.get("pool")) == "prefork" and 1 <= (params.get("concurrency") or 0) <= 8, (
        f"the email worker runs pool {params.get('pool')!r} at concurrency {params.get('concurrency')!r}; "
        "expected prefork with a few processes: only prefork can stop a task at its time limit "
        f"(a thread cannot be killed), and sending is short. {TASK_5}."
    )
