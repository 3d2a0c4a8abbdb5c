"""Section 5, workers at scale for the I/O-bound lookup (stage 07): threads pools at 16 to 128.

The jobs are the Giphy lookup (bench/lookup.py, or solutions/07_scale's with --lookup-target),
each waiting 200 ms on the Giphy stand-in, `python -m kata giphy-standin`, run as its own
process. For each job count (100, 1000), concurrency (16, 32, 64, 128) and number of worker
processes (1; and 2 for the larger count, the concurrency split between them):

1. an empty redis-server; the jobs are queued as the app queues them, then set aside (RENAME
   to a key no worker reads): what queueing costs in Redis commands is counted here;
2. fresh `celery worker --pool=threads` processes start and wait, idle, until ready;
3. the counters are read (each process's CPU time from /proc, Redis's INFO cpu and
   commandstats) and the clock starts; one RENAME hands every job to the workers at once;
4. the clock stops at the last "succeeded" line the workers log (its own timestamp), and the
   counters are read again.

So the figures are the workers' own: no start-up, no producer competing for the two cores.
Beside each run, its bounds from the same run: the ideal (concurrency / latency), the wave
bound (jobs / (ceil(jobs / c) x latency)) and the CPU bound (cores / the workers' CPU per job).
Redis's own throughput is measured first, with redis-benchmark when it is installed, else
with a pipelined redis-py loop; the results say which.
"""

from __future__ import annotations

import datetime
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import redis as redis_py

from bench import sizing
from bench.common import ROOT, TRACKER, CpuMeter, group_cpu_seconds
from bench.lookup import LookupTarget
from bench.services import worker
from kata.stack import HOST, Service, free_port, port_open, running, spawn, wait_until

STAGING = "bench:staged-jobs"
POLL = 0.05  # seconds between looks at the workers' logs (the clock reads their timestamps)
BENCHMARKED = ("LPUSH", "RPOP", "ZADD", "HSET", "SET", "GET")
JOB_COMMANDS = ("LPUSH", "RPOP", "ZADD", "HSET")  # what a job sends (RPOP standing in for BRPOP)
# "[2026-12-02 01:20:00,123: INFO/MainProcess] Task bench.look_up_gif[...] succeeded in 0.2s: ..."
LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): \w+/[^\]]*\] Task (\S+)\[[^\]]+\] succeeded in ([0-9.]+)s",
                      re.MULTILINE)


def successes(log: str, task_name: str) -> list[tuple[float, float]]:
    """(wall-clock time, run time) of each "Task NAME[id] succeeded in Xs" line in a worker's log."""
    found = []
    for stamp, name, runtime in LOG_LINE.findall(log):
        if name == task_name:
            when = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()  # local time, as logging writes it
            found.append((when, float(runtime)))
    return found


class LogFollower:
    """Reads a worker's log as it grows, and keeps its "succeeded" lines: only new bytes each time."""

    def __init__(self, path: Path, task_name: str) -> None:
        self.path, self.task_name = path, task_name
        self.offset, self.partial, self.found, self.failed = 0, "", [], 0

    def poll(self) -> list[tuple[float, float]]:
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                chunk = log.read()
        except OSError:
            return self.found
        self.offset += len(chunk)
        text = self.partial + chunk.decode(errors="replace")
        complete, _, self.partial = text.rpartition("\n")
        self.found += successes(complete, self.task_name)
        self.failed += len(re.findall(rf"Task {re.escape(self.task_name)}\[[^\]]+\] raised", complete))
        return self.found


@contextmanager
def giphy_standin(delay: float, logs: Path) -> Iterator[Service]:
    """`python -m kata giphy-standin --delay DELAY` on a free port, until it answers (its listening
    queue holds every worker thread's connection: kata.stack.StandInServer)."""
    port = free_port()
    command = [sys.executable, "-m", "kata", "giphy-standin", "--port", str(port), "--delay", str(delay)]
    with running(spawn("giphy-standin", command, logs, cwd=ROOT)) as service:
        wait_until(lambda: port_open(port), 30, "kata giphy-standin", service)
        service.url = f"http://{HOST}:{port}/v1/gifs"
        yield service


def command_counts(client: redis_py.Redis) -> dict[str, int]:
    """Calls per command so far (INFO commandstats), without INFO's own."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_").upper(): int(v["calls"]) for name, v in stats.items() if name != "cmdstat_info"}


def counts_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in sorted(after) if after[name] != before.get(name, 0)}


def redis_cpu(client: redis_py.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def redis_throughput(redis_url: str, port: int, requests: int = 50_000) -> dict[str, Any]:
    """Commands per second one redis-server carries here: redis-benchmark if installed, else redis-py."""
    binary = shutil.which("redis-benchmark")
    if binary:
        result: dict[str, Any] = {"tool": f"redis-benchmark -n {requests} -c 50 (its client shares this machine's cores)",
                                  "unpipelined": {}, "pipelined_16": {}}
        for key, pipeline in (("unpipelined", 1), ("pipelined_16", 16)):
            out = subprocess.run(
                [binary, "-h", HOST, "-p", str(port), "-n", str(requests), "-c", "50", "-P", str(pipeline),
                 "--csv", "-t", ",".join(name.lower() for name in BENCHMARKED)],
                capture_output=True, text=True, timeout=300, check=True,
            ).stdout
            for line in out.splitlines():
                fields = [f.strip('"') for f in line.split(",")]
                if len(fields) > 1 and fields[0] in BENCHMARKED:
                    result[key][fields[0]] = float(fields[1])
    else:
        client = redis_py.Redis.from_url(redis_url)
        result = {"tool": "redis-py, one client, pipelines of 16 LPUSH/RPOP (redis-benchmark not installed)",
                  "unpipelined": {}, "pipelined_16": {}}
        for name, step in (("LPUSH", lambda p: p.lpush("bench:rps", b"x" * 100)), ("RPOP", lambda p: p.rpop("bench:rps"))):
            started = time.perf_counter()
            for _ in range(requests // 16):
                pipe = client.pipeline(transaction=False)
                for _ in range(16):
                    step(pipe)
                pipe.execute()
            result["pipelined_16"][name] = (requests // 16 * 16) / (time.perf_counter() - started)
            started = time.perf_counter()
            for _ in range(requests // 10):
                step(client)
            result["unpipelined"][name] = (requests // 10) / (time.perf_counter() - started)
        client.delete("bench:rps")
    # What the sizing uses: the slowest of the commands a Celery job sends, without pipelining.
    result["commands_per_s"] = min(v for k, v in result["unpipelined"].items() if k in JOB_COMMANDS)
    return result


def run(redis_url: str, redis_port: int, logs: Path, target: LookupTarget, cores: int,
        job_counts: tuple[int, ...] = (100, 1000), concurrencies: tuple[int, ...] = (16, 32, 64, 128, 256),
        split_jobs: int = 1000, latency: float = 0.2, log: Callable[[str], None] = print) -> dict[str, Any]:
    client = redis_py.Redis.from_url(redis_url)
    client.flushdb()
    log("  Redis's own throughput...")
    throughput = redis_throughput(redis_url, redis_port)
    client.flushdb()
    log(f"  one redis-server: {throughput['commands_per_s']:,.0f} commands/s (slowest of "
        f"{', '.join(throughput['unpipelined'])}, unpipelined; {throughput['tool']})")
    results: dict[str, Any] = {
        "job_latency_s": latency, "cores": cores, "target_fraction_of_lower_bound": 0.8,
        "lookup_target": {"code_dir": str(target.code_dir), "celery_app": target.celery_app, "queue": target.queue,
                          "task": target.task_name},
        "redis_throughput": throughput, "runs": [],
    }
    with giphy_standin(latency, logs) as standin:
        env = {"GIPHY_API_URL": standin.url, "GIPHY_API_KEY": "kata-standin-key", "REDIS_URL": redis_url,
               "PYTHONUNBUFFERED": "1"}
        for jobs in job_counts:
            for concurrency in concurrencies:
                for processes in (1, 2) if jobs == split_jobs else (1,):
                    row = _one_run(client, redis_url, target, env, logs, standin, jobs, concurrency, processes, latency, cores)
                    results["runs"].append(row)
                    _log_row(row, log)
    client.flushdb()
    results["summary"] = summarise(results)
    return results


def _one_run(client: redis_py.Redis, redis_url: str, target: LookupTarget, env: dict[str, str], logs: Path,
             standin: Service, jobs: int, concurrency: int, processes: int, latency: float, cores: int) -> dict[str, Any]:
    client.flushdb()
    before_queueing = command_counts(client)
    queued_at = time.perf_counter()
    target.queue_jobs(redis_url, jobs)
    queue_seconds = time.perf_counter() - queued_at
    producer = counts_delta(before_queueing, command_counts(client))
    message_bytes = len(client.lindex(target.queue, 0) or b"")
    client.rename(target.queue, STAGING)  # set aside: no worker sees a job before the clock starts

    per_process = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    budget = 3 * jobs / sizing.lower_bound(jobs, concurrency, latency, cores, None) + 15
    with ExitStack() as stack:
        workers = [
            stack.enter_context(worker(
                target.code_dir, env, logs, "threads", slots, name=f"fleet-{jobs}-{concurrency}x{processes}-{i}",
                app=target.celery_app, extra=("-Q", target.queue, "-n", f"fleet{i}@%h"),
            ))
            for i, slots in enumerate(per_process)
        ]
        TRACKER.snapshot()
        time.sleep(0.3)  # let the workers settle into waiting on Redis
        followers = [LogFollower(w.log, target.task_name) for w in workers]
        for follower in followers:
            follower.poll()  # skip the start-up lines
        cpu_before = [group_cpu_seconds(w.process.pid) for w in workers]
        standin_before = group_cpu_seconds(standin.process.pid)
        redis_before, commands_before = redis_cpu(client), command_counts(client)
        own_before = _own_cpu()
        overflows = _listen_overflows()
        machine = CpuMeter()
        machine.start()
        started = time.time()
        client.rename(STAGING, target.queue)  # the clock starts: every job is there at once
        deadline = time.monotonic() + budget
        done: list[tuple[float, float]] = []
        while time.monotonic() < deadline:
            done = [s for follower in followers for s in follower.poll()]
            if len(done) + sum(f.failed for f in followers) >= jobs:
                break
            time.sleep(POLL)
        wall = time.time() - started
        busy = machine.busy_cores()
        cpu_after = [group_cpu_seconds(w.process.pid) for w in workers]
        standin_after = group_cpu_seconds(standin.process.pid)
        redis_after, commands_after = redis_cpu(client), command_counts(client)
        own_after = _own_cpu()
    finished = len(done) >= jobs
    completed = min(len(done), jobs)
    ended = max((when for when, _ in done), default=time.time())
    seconds = max(ended - started, 1e-3)
    worker_cpu = sum(after - before for before, after in zip(cpu_before, cpu_after) if before is not None and after is not None)
    cpu_per_job = worker_cpu / completed if completed and None not in cpu_before else None
    consumer = counts_delta(commands_before, commands_after)
    rate = completed / seconds
    lower = sizing.lower_bound(jobs, concurrency, latency, cores, cpu_per_job)
    standin_cpu = (standin_after - standin_before) if standin_before is not None and standin_after is not None else 0.0
    ours = worker_cpu + standin_cpu + (redis_after - redis_before) + (own_after - own_before)
    others = max(0.0, round(busy - ours / wall, 2)) if busy is not None else None
    return with_achievable({
        "jobs": jobs, "concurrency": concurrency, "processes": processes, "threads_per_process": per_process,
        "completed": completed, "failed": sum(f.failed for f in followers), "finished": finished,
        "listen_overflows": _listen_overflows() - overflows if overflows is not None else None, "seconds": seconds, "jobs_per_s": rate,
        "jobs_per_s_per_process": rate / processes,
        "ideal_jobs_per_s": sizing.ideal(concurrency, latency),
        "wave_bound_jobs_per_s": sizing.wave_bound(jobs, concurrency, latency),
        "cpu_bound_jobs_per_s": sizing.cpu_bound(cores, cpu_per_job) if cpu_per_job else None,
        "one_process_cpu_bound_jobs_per_s": sizing.cpu_bound(processes, cpu_per_job) if cpu_per_job else None,
        "lower_bound_jobs_per_s": lower,
        "fraction_of_lower_bound": rate / lower,
        "target_met": finished and rate / lower >= 0.8,
        "worker_cpu_s_per_job": cpu_per_job,
        "standin_cpu_s_per_job": (standin_after - standin_before) / completed
        if completed and standin_before is not None and standin_after is not None else None,
        "redis_cpu_s_per_job": (redis_after - redis_before) / completed if completed else None,
        "machine_busy_cores": busy,
        # Everything this run started (workers, stand-in, redis-server, this process) per job,
        # and the cores the machine's other users took meanwhile (it is shared).
        "bench_cpu_s_per_job": ours / completed if completed else None,
        "machine_cpu_bound_jobs_per_s": sizing.cpu_bound(cores, ours / completed) if completed and ours > 0 else None,
        "other_users_busy_cores": others,
        # What the cores left over by the others could do at this run's own CPU cost per job.
        "available_cpu_bound_jobs_per_s": sizing.cpu_bound(max(cores - others, 0.05), ours / completed)
        if completed and ours > 0 and others is not None else None,
        "task_runtime_median_s": statistics.median(r for _, r in done) if done else None,
        "queue_seconds": queue_seconds,
        "message_bytes": message_bytes,
        "redis_commands_producer": producer,
        "redis_commands_worker": consumer,
        "redis_commands_per_job": (sum(producer.values()) + sum(consumer.values())) / jobs,
    })


def with_achievable(row: dict[str, Any]) -> dict[str, Any]:
    """Adds what the run could reach, everything counted: the least of the ideal, the wave bound,
    the one-process bound (the GIL) and what the cores left by other users could do."""
    bounds = [row["ideal_jobs_per_s"], row["wave_bound_jobs_per_s"], row["one_process_cpu_bound_jobs_per_s"],
              row["available_cpu_bound_jobs_per_s"]]
    known = [b for b in bounds if b]
    row["achievable_jobs_per_s"] = min(known)
    row["fraction_of_achievable"] = row["jobs_per_s"] / row["achievable_jobs_per_s"]
    return row


def _listen_overflows() -> int | None:
    """Connections this machine's kernel refused so far because a listening socket's queue was full."""
    try:
        head, values = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()
                        if line.startswith("TcpExt:")][:2]
        return int(dict(zip(head, values))["ListenOverflows"])
    except (OSError, ValueError, KeyError):
        return None


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _log_row(r: dict[str, Any], log: Callable[[str], None]) -> None:
    cpu = f"{r['worker_cpu_s_per_job'] * 1000:.2f} ms" if r["worker_cpu_s_per_job"] else "-"
    late = "" if r["finished"] else f"  NOT FINISHED: {r['completed']}/{r['jobs']}, {r['failed']} failed"
    log(f"  {r['jobs']:>4} jobs, threads x{r['concurrency']:<3} in {r['processes']} process(es): {r['jobs_per_s']:6.1f} jobs/s"
        f" of {r['lower_bound_jobs_per_s']:5.0f} lower bound ({r['fraction_of_lower_bound']:4.0%})"
        f"{late}"
        f"  [worker CPU {cpu}/job, {r['redis_commands_per_job']:.1f} Redis commands/job, machine {r['machine_busy_cores']} cores busy,"
        f" {r['other_users_busy_cores']} by others, {r['listen_overflows']} listen overflows]")


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """The crossover and the figures the sizing starts from, out of the runs."""
    latency, cores = results["job_latency_s"], results["cores"]
    runs = [r for r in results["runs"] if r["finished"]]
    summary: dict[str, Any] = {"crossover": {}}
    for jobs in sorted({r["jobs"] for r in runs}):
        for processes in sorted({r["processes"] for r in runs if r["jobs"] == jobs}):
            series = [(r["concurrency"], r["jobs_per_s"]) for r in runs if r["jobs"] == jobs and r["processes"] == processes]
            cpu = [r["worker_cpu_s_per_job"] for r in runs if r["jobs"] == jobs and r["processes"] == processes
                   and r["worker_cpu_s_per_job"]]
            cpu_median = statistics.median(cpu) if cpu else None
            summary["crossover"][f"{jobs} jobs, {processes} process(es)"] = {
                "observed": sizing.observed_crossover(series),
                "predicted_machine": sizing.predicted_crossover(latency, cores, cpu_median) if cpu_median else None,
                "predicted_per_process_gil": sizing.predicted_crossover(latency, processes, cpu_median) if cpu_median else None,
                "worker_cpu_s_per_job_median": cpu_median,
            }
    single = [r for r in runs if r["processes"] == 1 and r["jobs"] == max(r2["jobs"] for r2 in runs)] if runs else []
    if single:
        best = max(single, key=lambda r: r["jobs_per_s"])
        summary["best_single_process"] = {k: best[k] for k in ("jobs", "concurrency", "jobs_per_s", "worker_cpu_s_per_job",
                                                               "redis_commands_per_job", "message_bytes")}
    summary["target_met_everywhere"] = all(r["target_met"] for r in results["runs"])
    return summary


def sizing_inputs(fleet: dict[str, Any], scale: dict[str, Any] | None) -> sizing.Measured | None:
    """The sizing's starting figures from this run's sections 5 (and 4, for the email job's CPU)."""
    best = fleet.get("summary", {}).get("best_single_process")
    if not best:
        return None
    email_cpu = None
    if scale:
        prefork = [r for r in scale.get("runs", []) if r["pool"] == "prefork" and r["worker_cpu_s_per_job"]]
        if prefork:
            email_cpu = max(prefork, key=lambda r: r["concurrency"])["worker_cpu_s_per_job"]
    return sizing.Measured(
        jobs_per_s_per_process=best["jobs_per_s"],
        cores_per_machine=fleet["cores"],
        processes_per_machine=fleet["cores"],
        latency=fleet["job_latency_s"],
        redis_commands_per_job=best["redis_commands_per_job"],
        redis_commands_per_s=fleet["redis_throughput"]["commands_per_s"],
        message_bytes=best["message_bytes"],
        email_cpu_per_job=email_cpu,
    )
