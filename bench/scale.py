"""Section 4, workers at scale: 100 jobs, each waiting 200 ms on Giphy, through real workers.

For each pool (prefork, threads) and concurrency (1, 2, 4, 8, 16): a fresh `celery worker`
process, an empty queue and an empty inbox; then the clock starts, this process enqueues the
jobs with `send_randomness_email.delay()`, and the clock stops when the inbox holds every
email. Jobs per second beside the ideal, concurrency / job latency. Every run is bounded: a
run that does not finish in time is reported as such.

The inbox is, by default, kata.inbox.SmtpInbox (aiosmtpd in this process), which signals the
last arrival at once. maildump (`--scale-inbox maildump`, polled over its REST API every
20 ms) is what the stack uses elsewhere, but its SMTP server answers EHLO line by line on a
socket without TCP_NODELAY: each email waits ~40 ms on a delayed ACK, a fixed cost per job
that is the sink's, not Celery's. `smtp_probe` measures that cost on both.
"""

from __future__ import annotations

import math
import re
import smtplib
import statistics
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests

from bench.common import TRACKER, CpuMeter, group_cpu_seconds
from bench.enqueue import BACKGROUND_APP, load_background_task
from bench.services import worker
from kata.inbox import SmtpInbox
from kata.stack import HOST, Maildump

POLL = 0.02
TARGET = 0.8  # at least 80% of ideal at the highest concurrency
SUCCEEDED = re.compile(r"succeeded in ([0-9.]+)s")


def smtp_probe(port: int, count: int = 10) -> float:
    """Median seconds to hand one small email to the SMTP server on `port` (connect to QUIT)."""
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = "probe@example.com", "gob@example.com", "probe"
    message.set_content("probe")
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        with smtplib.SMTP(HOST, port, timeout=5) as smtp:
            smtp.send_message(message)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


class _MaildumpSink:
    name = "maildump (REST API polled every 20 ms)"

    def __init__(self, inbox: Maildump) -> None:
        self.inbox, self.port = inbox, inbox.smtp_port
        self.session = requests.Session()

    def clear(self) -> None:
        self.session.delete(f"{self.inbox.inbox_url}messages/", timeout=5).raise_for_status()

    def wait_for(self, count: int, deadline: float) -> int:
        while True:
            arrived = len(self.session.get(f"{self.inbox.inbox_url}messages/", timeout=5).json()["messages"])
            if arrived >= count or time.perf_counter() >= deadline:
                return arrived
            time.sleep(POLL)


class _AiosmtpdSink:
    name = "aiosmtpd (kata.inbox.SmtpInbox, in the bench process)"

    def __init__(self, inbox: SmtpInbox) -> None:
        self.inbox, self.port = inbox, inbox.port

    def clear(self) -> None:
        self.inbox.clear()

    def wait_for(self, count: int, deadline: float) -> int:
        return len(self.inbox.wait_for(count, timeout=max(0.0, deadline - time.perf_counter())))


def run(
    redis_url: str,
    env: Mapping[str, str],
    maildump: Maildump,
    logs: Path,
    purge: Callable[[], None],
    inbox: str = "aiosmtpd",
    pools: tuple[str, ...] = ("prefork", "threads"),
    concurrencies: tuple[int, ...] = (1, 2, 4, 8, 16),
    jobs: int = 100,
    job_latency: float = 0.2,
    even_runs: bool = True,
    log: Any = print,
) -> dict[str, Any]:
    task = load_background_task(redis_url)
    aiosmtpd = SmtpInbox().start()
    try:
        probe = {"maildump": smtp_probe(maildump.smtp_port), "aiosmtpd": smtp_probe(aiosmtpd.port)}
        sink: _MaildumpSink | _AiosmtpdSink = _MaildumpSink(maildump) if inbox == "maildump" else _AiosmtpdSink(aiosmtpd)
        env = {**env, "MAIL_PORT": str(sink.port)}
        log(f"  inbox: {sink.name}; one email takes {probe['maildump'] * 1000:.1f} ms to hand to maildump, "
            f"{probe['aiosmtpd'] * 1000:.1f} ms to aiosmtpd")
        results: dict[str, Any] = {
            "jobs": jobs, "job_latency_s": job_latency, "inbox": sink.name,
            "smtp_send_median_s": probe, "target_fraction_of_ideal": TARGET, "runs": [], "even_runs": [],
        }
        for pool in pools:
            for concurrency in concurrencies:
                results["runs"].append(_one_run(task, env, logs, purge, sink, pool, concurrency, jobs, job_latency, log))
        if even_runs:
            # Supplementary: at the top concurrency, a job count that fills every wave.
            top = max(concurrencies)
            for pool in pools:
                results["even_runs"].append(_one_run(task, env, logs, purge, sink, pool, top, 10 * top, job_latency, log))
    finally:
        aiosmtpd.stop()
        purge()
    top = max(concurrencies)
    for pool in pools:
        rows = [r for r in results["runs"] if r["pool"] == pool and r["concurrency"] == top]
        if rows:
            results[f"target_met_{pool}"] = rows[0]["finished"] and rows[0]["fraction_of_ideal"] >= TARGET
    return results


def _one_run(task: Any, env: Mapping[str, str], logs: Path, purge: Callable[[], None], sink: Any,
             pool: str, concurrency: int, jobs: int, job_latency: float, log: Any) -> dict[str, Any]:
    purge()
    sink.clear()
    ideal = concurrency / job_latency
    budget = 3 * jobs / ideal + 10  # bounded: three times the ideal duration, plus 10 s
    with worker(BACKGROUND_APP, env, logs, pool, concurrency, name=f"worker-{pool}-{concurrency}") as service:
        TRACKER.snapshot()
        cpu = CpuMeter()
        cpu.start()
        worker_cpu = group_cpu_seconds(service.process.pid)
        started = time.perf_counter()
        for i in range(jobs):
            task.delay(f"job{i}@example.com", "a cat typing very fast")
        enqueued = time.perf_counter() - started
        arrived = sink.wait_for(jobs, started + budget)
        elapsed = time.perf_counter() - started
        busy = cpu.busy_cores()
        worker_cpu_end = group_cpu_seconds(service.process.pid)
        runtimes = [float(x) for x in SUCCEEDED.findall(service.output())]
    done = arrived >= jobs
    # The ideal assumes jobs split evenly over the slots; 100 jobs on 16 slots take 7 waves.
    wave_bound = jobs / (math.ceil(jobs / concurrency) * job_latency)
    cpu_per_job = None
    if worker_cpu is not None and worker_cpu_end is not None and arrived:
        cpu_per_job = (worker_cpu_end - worker_cpu) / arrived
    row = {
        "jobs": jobs,
        "pool": pool,
        "concurrency": concurrency,
        "completed": arrived,
        "finished": done,
        "seconds": elapsed,
        "enqueue_seconds": enqueued,
        "jobs_per_s": arrived / elapsed,
        "ideal_jobs_per_s": ideal,
        "fraction_of_ideal": (arrived / elapsed) / ideal,
        "wave_bound_jobs_per_s": wave_bound,
        "wave_bound_fraction_of_ideal": wave_bound / ideal,
        "worker_cpu_s_per_job": cpu_per_job,
        "task_runtime_median_s": statistics.median(runtimes) if runtimes else None,
        "machine_busy_cores": busy,
    }
    runtime = f"{row['task_runtime_median_s'] * 1000:.0f} ms/job" if runtimes else "-"
    log(
        f"  {pool:>7} x{concurrency:<2} {jobs:>3} jobs: {row['jobs_per_s']:6.1f} jobs/s of {ideal:3.0f} ideal "
        f"({row['fraction_of_ideal']:4.0%}){'' if done else f'  TIMED OUT: {arrived}/{jobs} in {budget:.0f} s'}"
        f"  [{elapsed:.2f} s, task p50 {runtime}, worker CPU {cpu_per_job * 1000 if cpu_per_job else 0:.1f} ms/job, machine {busy} cores busy]"
    )
    return row
