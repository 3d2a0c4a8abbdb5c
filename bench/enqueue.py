"""Section 3, the cost of enqueueing: bare `send_randomness_email.delay()` and raw `LPUSH`.

Run as its own process, `python -m bench.enqueue REDIS_URL`, so nothing else of the bench
shares its interpreter: it imports solutions/04_enqueue's `workit` the way the web app does,
times `delay()` calls against the given (real) redis-server, then times a raw redis-py
`LPUSH` of a message of the same size, and counts the Redis commands one `delay()` sends.
Then the view without HTTP: the same POST through Flask's test client.
Prints one JSON object. It leaves its messages in the `celery` list: the caller purges them.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.common import ROOT, Summary

BACKGROUND_APP = ROOT / "solutions" / "04_enqueue"
SCRATCH_KEY = "bench:lpush"


def load_background_app(redis_url: str) -> tuple[Any, Any]:
    """solutions/04_enqueue's Flask app and task, bound to `redis_url`: what the web process holds."""
    if str(BACKGROUND_APP) not in sys.path:
        sys.path.insert(0, str(BACKGROUND_APP))
    from workit import create_app  # type: ignore[import-not-found]
    from workit.tasks import send_randomness_email  # type: ignore[import-not-found]

    return create_app({"REDIS_URL": redis_url, "SECRET_KEY": "bench-" + "0" * 32}), send_randomness_email


def load_background_task(redis_url: str) -> Any:
    return load_background_app(redis_url)[1]


def timings(call: Any, count: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def in_process(app: Any, count: int, warmup: int) -> dict[str, Any]:
    """The same requests through Flask's test client, no HTTP: what the view itself costs.

    Like the HTTP client: GET / once, then every POST sends that session cookie (and the
    form's hidden fields, a CSRF token if any) and drops the cookie it gets back.
    """
    from bench.headline import hidden_fields

    client = app.test_client(use_cookies=False)
    page = client.get("/")
    hidden = hidden_fields(page.get_data(as_text=True))
    cookie = "; ".join(c.split(";", 1)[0] for c in page.headers.getlist("Set-Cookie"))
    headers = {"Cookie": cookie} if cookie else {}
    form = {**hidden, "mailers[email]": "learner@example.com", "mailers[thought]": "a cat typing very fast"}
    refused = {**hidden, "mailers[email]": "not an address", "mailers[thought]": "a cat typing very fast"}

    def post(data: dict[str, str], expect: int) -> None:
        answer = client.post("/mailers", data=data, headers=headers)
        if answer.status_code != expect:
            raise RuntimeError(f"POST /mailers in process: expected {expect}, got {answer.status_code}")

    return {
        "post_mailers": Summary.of(timings(lambda: post(form, 303), count, warmup)).as_dict(),
        "post_mailers_refused_400": Summary.of(timings(lambda: post(refused, 400), count, warmup)).as_dict(),
        "get_sent": Summary.of(timings(lambda: client.get("/sent"), count, warmup)).as_dict(),
    }


def commandstats(client: Any) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in client.info("commandstats").items()}


def measure(redis_url: str, count: int, warmup: int = 50) -> dict[str, Any]:
    import redis

    app, task = load_background_app(redis_url)
    client = redis.Redis.from_url(redis_url)
    timings(lambda: task.delay("warmup@example.com", "a cat typing very fast"), 0, warmup)

    before = commandstats(client)
    delays = timings(lambda: task.delay("learner@example.com", "a cat typing very fast"), count, 0)
    after = commandstats(client)
    sent = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    # commandstats counts every client: take out this probe's own INFO, keep what delay() sent.
    sent["info"] = sent.get("info", 0) - 1
    per_delay = {name: round(calls / count, 2) for name, calls in sorted(sent.items()) if calls > 0}

    payload = client.lindex("celery", 0) or b"x" * 1000
    pushes = timings(lambda: client.lpush(SCRATCH_KEY, payload), count, warmup)
    client.delete(SCRATCH_KEY)
    client.close()
    view = in_process(app, count, warmup)
    return {
        "in_process_test_client": view,
        "count": count,
        "delay": Summary.of(delays).as_dict(),
        "lpush": Summary.of(pushes).as_dict(),
        "message_bytes": len(payload),
        "redis_commands_per_delay": per_delay,
    }


if __name__ == "__main__":
    url = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print(json.dumps(measure(url, n)))
