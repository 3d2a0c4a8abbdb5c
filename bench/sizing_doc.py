"""The "Past one machine" section, written from one bench run's results.json.

`python -m bench.sizing_doc` prints it from bench/results.json; `--write FILE` saves it (it is
the "Past one machine" section of bench/README.md: after a new run, paste it there;
stages/07_scale/README.md has a learner's version, the same sums from figures a learner can
measure, and points here for the maintainers). Every number in it is
either read from that run, computed by bench/sizing.py from those readings, or marked as an
assumption.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.common import RESULTS_JSON
from bench.fleet import JOB_COMMANDS


def _gb(size: float) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def _run_row(fleet: dict[str, Any], jobs: int, concurrency: int, processes: int) -> dict[str, Any] | None:
    return next((r for r in fleet["runs"] if r["jobs"] == jobs and r["concurrency"] == concurrency
                 and r["processes"] == processes), None)


def render(results: dict[str, Any]) -> str:
    machine, fleet, sized = results["machine"], results["fleet"], results["sizing"]
    inputs, per_day = sized["inputs"], sized["per_day"]
    best = fleet["summary"]["best_single_process"]
    run = f"`make bench` of {machine['date'][:16].replace('T', ' ')} UTC (commit {machine['git_commit']}, bench/results.json)"
    rt = fleet["redis_throughput"]
    slowest = min(JOB_COMMANDS, key=lambda k: rt["unpipelined"].get(k, float("inf")))
    row = _run_row(fleet, best["jobs"], best["concurrency"], 1) or {}
    queueing = sum(row.get("redis_commands_producer", {}).values()) / best["jobs"] if row else None
    taking = sum(row.get("redis_commands_worker", {}).values()) / best["jobs"] if row else None
    crossover = fleet["summary"]["crossover"].get(f"{best['jobs']} jobs, 1 process(es)", {})
    top = max(r["concurrency"] for r in fleet["runs"])
    scale = results.get("scale") or {}
    prefork = max((r for r in scale.get("runs", []) if r["pool"] == "prefork" and r["worker_cpu_s_per_job"]),
                  key=lambda r: r["concurrency"], default=None)
    small, large = per_day["1000000"], per_day["100000000"]
    sixteen = (_run_row(fleet, best["jobs"], 16, 1) or {}).get("jobs_per_s", float("nan"))
    peak = sized["assumptions"]["peak_factor"]
    headroom = sized["assumptions"]["broker_headroom"]
    limit = sized["one_redis_limit_emails_per_day"]
    cores = inputs["cores_per_machine"]

    lines = [
        "## Past one machine",
        "",
        (f"How big does Work-It get at 1 million and at 100 million emails a day? On paper, from what {run} measured on "
        f"one {cores}-core machine, shared with other work while it ran. The stand-in Giphy answers after "
        f"{inputs['latency'] * 1000:.0f} ms; the real one's latency is not measured here."),
        "",
        "**What one machine measured** (`make bench`'s section 5, see bench/README.md, unless said otherwise):",
        "",
        "| figure | value | where it comes from |",
        "|---|---|---|",
        (f"| lookups per second, one `celery worker --pool=threads` process | {best['jobs_per_s']:.0f} | the best of the "
        f"{best['jobs']}-job, one-process runs (concurrency {best['concurrency']}) |"),
        (f"| worker CPU per lookup | {best['worker_cpu_s_per_job'] * 1000:.2f} ms | the same run: the worker's CPU time "
        "(/proc) over the jobs |"),
        (f"| one process's CPU ceiling | {1 / best['worker_cpu_s_per_job']:.0f} lookups/s | 1 core / that CPU: a threads "
        "pool runs Python on one core at a time (the GIL) |"),
        (f"| where more threads stop helping | measured: "
        f"{'beyond ' + str(top) if crossover.get('observed') is None else 'after ' + str(crossover['observed'])}; predicted "
        f"{crossover.get('predicted_per_process_gil') or 0:.0f} per process | the 1000-job series (the next level adds "
        "under 10%); latency x 1 core / CPU per job |"),
    ]
    if prefork:
        lines.append(f"| CPU per email job (prefork) | {prefork['worker_cpu_s_per_job'] * 1000:.2f} ms | section 4, "
                     f"prefork at {prefork['concurrency']}: 04_enqueue's task, lookup and SMTP in one (an upper figure) |")
    lines += [
        f"| Redis commands per lookup | {best['redis_commands_per_job']:.1f}"
        + (f" ({queueing:.1f} to queue it, {taking:.1f} to take, run and acknowledge it)" if queueing is not None else "")
        + " | INFO commandstats before and after, over the jobs |",
        f"| one queued message | {best['message_bytes']} bytes | the list item in Redis |",
        (f"| one redis-server's throughput | {rt['commands_per_s']:,.0f} commands/s | {rt['tool']}; the slowest "
        f"({slowest}) of {', '.join(JOB_COMMANDS)}, the commands a job sends, not pipelined |"),
        "",
        (f"**Assumptions** (not measured): the busiest hour carries {peak:g}x the day's average; a broker should stay under "
        f"{headroom:.0%} busy (bursts, failover); each email is {inputs['jobs_per_email']} jobs (stage 07's chain: the "
        "lookup, then the email), and the email job costs Redis as many commands as the lookup."),
        "",
        "| | 1 million a day | 100 million a day | how |",
        "|---|---|---|---|",
        (f"| emails per second | {small['average_per_s']:.1f} average, {small['peak_per_s']:.0f} at peak | "
        f"{large['average_per_s']:,.0f} average, {large['peak_per_s']:,.0f} at peak | per day / 86,400; x {peak:g} |"),
        (f"| lookups waiting on Giphy at once | {small['lookups_in_flight']:.0f} | {large['lookups_in_flight']:,.0f} | "
        f"Little's law: peak rate x {inputs['latency']:g} s |"),
        (f"| lookup worker processes | {small['lookup_processes']} | {large['lookup_processes']} | peak / "
        f"{inputs['jobs_per_s_per_process']:.0f} per process |"),
    ]
    if small["email_cores"] is not None:
        lines.append(f"| cores for the email workers | {small['email_cores']:.2f} | {large['email_cores']:.1f} | peak x "
                     f"{inputs['email_cpu_per_job'] * 1000:.2f} ms |")
    lines += [
        (f"| machines like this one ({cores} cores) | {small['machines']} | {large['machines']} | (a core per lookup "
        f"process + the email cores) / {cores} |"),
        (f"| what the broker carries | {small['broker_commands_per_s']:,.0f} commands/s | "
        f"{large['broker_commands_per_s']:,.0f} commands/s | peak x {inputs['redis_commands_per_job']:.1f} x "
        f"{inputs['jobs_per_email']} jobs |"),
        (f"| share of one redis-server (as measured here) | {small['broker_share']:.0%} | {large['broker_share']:.0%} | "
        f"/ {inputs['redis_commands_per_s']:,.0f} commands/s |"),
        (f"| what an hour without workers leaves queued | {_gb(small['queued_bytes_per_hour'])} | "
        f"{_gb(large['queued_bytes_per_hour'])} | average rate x 3600 s x {inputs['message_bytes']} bytes x "
        f"{inputs['jobs_per_email']}: Redis keeps it all in memory |"),
        "",
        (f"**1 million a day** is small: {small['peak_per_s']:.0f} emails a second at the peak, about "
        f"{small['lookups_in_flight']:.0f} lookups in flight, so one threads worker at concurrency 16 (it did "
        f"{sixteen:.0f} lookups/s in section 5, with 1000 jobs) and one "
        f"prefork email worker, on one machine with its Redis, which is {small['broker_share']:.0%} busy. Run two of "
        "each anyway, on two machines: not for speed, so that losing one loses nothing (late acks bring its jobs back)."),
        "",
        (f"**100 million a day** is {large['peak_per_s']:,.0f} emails a second at the peak and "
        f"{large['lookups_in_flight']:,.0f} lookups in flight: {large['lookup_processes']} lookup processes (more "
        f"threads per process do not help past the crossover above: the CPU does), the email workers beside them, "
        f"about {large['machines']} machines like this one. The workers scale out without a change: every worker "
        "process only needs the broker URL. The broker does not: "
        f"{large['broker_commands_per_s']:,.0f} commands a second is {large['broker_share']:.0%} of what one "
        f"redis-server did here. By these figures, one Redis stops being enough at about "
        f"{limit / 1e6:,.0f} million emails a day ({headroom:.0%} busy at the peak). "
        "A Redis on a machine of its own would carry more than this shared machine showed (not measured here), but "
        "it stays one process on one core for every queue, and one place to lose every queued job."),
        "",
        "**What Celery users move to.**",
        "",
        ("- **Redis Sentinel** keeps Redis and adds failover: replicas, and sentinels that promote one when the "
        "master dies. Celery's Redis broker speaks to it directly: a broker URL of "
        "`sentinel://host1:26379;sentinel://host2:26379;sentinel://host3:26379` with "
        "`broker_transport_options = {\"master_name\": \"mymaster\"}` (Celery's *Using Redis* page). It buys "
        "availability, not throughput: one master still carries every command."),
        ("- **Redis Cluster**, which would spread the queues over several masters, is not supported by Celery's Redis "
        "transport (kombu): the feature requests are still open (celery/celery#2852, celery/kombu#526). Splitting "
        "by hand (the `giphy` and the `email` queues on two Redis servers) means two Celery apps."),
        ("- **RabbitMQ** is Celery's default broker, the one its documentation describes first (*Using RabbitMQ*: "
        "\"RabbitMQ is the default broker\"). It is built for this: acknowledgements are part of the protocol (no "
        "visibility timeout to keep above the longest job), messages can live on disk, and quorum queues replicate "
        "them across a cluster. This is where a Work-It of 100 million a day would go. (Amazon SQS is the managed "
        "alternative Celery also supports.)"),
        "",
        ("**What changes in the code: the broker URL, and nothing else**, if the stages were done right: settings "
        "from the environment, tasks that take ids, kombu's `OperationalError` (not Redis's) caught around "
        "`.delay()`, queues named by configuration. One thing to do on the way: the stages' Celery app takes its "
        "broker from `REDIS_URL`, which also serves the app's own Redis (the \"sent\" keys, `/health`). Give the "
        "broker a setting of its own (say `CELERY_BROKER_URL`, defaulting to `REDIS_URL`), so the broker can move "
        "while those keys stay in Redis. The Redis-only transport options (`visibility_timeout`, "
        "`unacked_restore_interval`) mean nothing to RabbitMQ. Not verified here: no RabbitMQ runs on this machine."),
        "",
        ("**Also at 100 million a day**: Celery's `rate_limit` holds per worker, so the Giphy budget is "
        f"{large['lookup_processes']} times the per-worker limit; at {large['average_per_s']:,.0f} lookups a second "
        "on average, Giphy's own limits for a production key decide, not ours."),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sizing_doc", description=__doc__)
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS_JSON)
    parser.add_argument("--write", type=Path, help="save the section to this file too")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    if "sizing" not in results:
        parser.exit(1, f"{args.results} has no sizing: run `make bench` (section 5) first\n")
    text = render(results)
    if args.write:
        args.write.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
