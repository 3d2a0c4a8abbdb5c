"""The Giphy lookup as stage 07 runs it, reduced to what costs time: one task, one HTTP GET.

`celery -A bench.lookup worker --pool=threads -Q giphy` runs it; section 5 of the bench
(bench/fleet.py) queues it. The settings mirror what stage 07 asks for the lookup queue: late
acks with a prefetch multiplier of 1, a timeout on the request, no stored results. Two things
are left out on purpose: the rate limit (a beta key's budget would be the only thing measured)
and the chained email job (section 4 measures sending).

To measure solutions/07_scale's own task instead, give `python -m bench --lookup-target` a
`module:NAME` whose NAME is a `LookupTarget` (see TARGET below): which directory the worker
runs in, its `-A` app, the queue, and how to queue N jobs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from celery import Celery

GIPHY_API = os.environ.get("GIPHY_API_URL", "http://127.0.0.1:5100/v1/gifs")
GIPHY_TIMEOUT = (2.0, 5.0)  # connect, read: seconds
QUEUE = "giphy"

app = Celery("bench_lookup", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_default_queue=QUEUE,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.look_up_gif")
def look_up_gif(thought: str) -> str:
    """The URL of a GIF for `thought`, from Giphy's search (the stand-in's, on loopback)."""
    params = {"q": thought, "api_key": os.environ.get("GIPHY_API_KEY", "kata-standin-key"), "limit": 1}
    response = requests.get(f"{GIPHY_API}/search", params=params, timeout=GIPHY_TIMEOUT)
    response.raise_for_status()
    return str(response.json()["data"][0]["images"]["fixed_height"]["url"])


@dataclass(frozen=True)
class LookupTarget:
    """What section 5 needs to run a lookup task: where, which app, which queue, how to queue one."""

    code_dir: Path  # the worker's working directory (and the first entry of sys.path)
    celery_app: str  # `celery -A` this
    queue: str  # `-Q` this
    task_name: str  # the name in the worker's "Task NAME[id] succeeded" log lines
    queue_jobs: Callable[[str, int], Any]  # (redis_url, count): queue that many jobs, as the app would


def _queue_jobs(redis_url: str, count: int) -> None:
    app.conf.broker_url = redis_url
    for i in range(count):
        look_up_gif.delay(f"a cat typing very fast {i}")


TARGET = LookupTarget(
    code_dir=Path(__file__).resolve().parent.parent,
    celery_app="bench.lookup",
    queue=QUEUE,
    task_name=look_up_gif.name,
    queue_jobs=_queue_jobs,
)
