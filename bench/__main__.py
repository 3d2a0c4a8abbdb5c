"""`python -m bench` (`make bench`): run the five sections, print the table, save JSON and PNGs.

Everything runs on 127.0.0.1, bounded in count and time, and is stopped on the way out. The
stack needs a real redis-server on PATH (REDIS_URL is ignored: the bench starts and empties
its own).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import feedback, loop
from bench.common import PLOT_PNG, RESULTS_JSON, ROOT, TRACKER, Summary, machine_info
from bench.report import format_report


def log(message: str) -> None:
    print(message, flush=True)


def run_stack_sections(sections: str, args: argparse.Namespace, results: dict[str, Any]) -> None:
    import redis as redis_py

    from bench import headline, scale
    from bench.enqueue import BACKGROUND_APP
    from bench.services import gunicorn, worker
    from kata.stack import GiphyStandIn, app_environment, maildump_service, redis_service, web_service

    os.environ.pop("REDIS_URL", None)  # the bench starts, fills and empties its own redis-server
    with tempfile.TemporaryDirectory(prefix="workit-bench-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
        redis = stack.enter_context(redis_service(logs, allow_embedded=False))
        inbox = stack.enter_context(maildump_service(logs))
        client = stack.enter_context(redis_py.Redis.from_url(redis.url))
        purge = client.flushdb
        log(f"stack: redis-server at {redis.url}, maildump SMTP {inbox.smtp_port} / web {inbox.inbox_url}")

        if "2" in sections or "3" in sections:
            with ExitStack() as apps:
                giphy = apps.enter_context(GiphyStandIn(delay=args.giphy_delay))
                env = app_environment(redis.url, inbox, giphy.api_url)
                sync_web = apps.enter_context(web_service(ROOT / "solutions" / "01_sync", env, logs, "web-sync"))
                flask_web = apps.enter_context(web_service(BACKGROUND_APP, env, logs, "web-background"))
                gunicorn_web = apps.enter_context(gunicorn(BACKGROUND_APP, env, logs))
                log(f"\n== 2. Headline: POST /mailers, Giphy stand-in answering after {args.giphy_delay:.0f} s ==")
                with worker(BACKGROUND_APP, env, logs, "threads", 8, name="worker-headline"):
                    TRACKER.snapshot()
                    headline.get_page(sync_web.url, "/", 1, warmup=1)
                    sync = headline.post_mailers(sync_web.url, args.sync_requests)
                    log(f"  sync app, flask run: median {Summary.of(sync).median * 1000:.0f} ms over {len(sync)} requests")
                    backgrounds = []
                    for server, web in (("flask run", flask_web), ("gunicorn gthread 2x4", gunicorn_web)):
                        floor = headline.get_page(web.url, "/sent", args.background_requests)
                        posts = headline.post_mailers(web.url, args.background_requests, warmup=10)
                        backgrounds.append(headline.side("background (04_enqueue)", server, posts, floor))
                        log(f"  background app, {server}: median {Summary.of(posts).median * 1000:.2f} ms over {len(posts)} requests")
                    # The background jobs really run: the worker sends their emails meanwhile.
                    deadline = time.monotonic() + args.giphy_delay + 10
                    while len(inbox.messages()) <= len(sync) and time.monotonic() < deadline:
                        time.sleep(0.1)
                    delivered = len(inbox.messages()) - len(sync)
                sync_median = Summary.of(sync).median
                results["headline"] = {
                    "giphy_delay_s": args.giphy_delay,
                    "client": "http.client, one kept-alive connection, sequential requests; p99 is nearest-rank (with 5 samples: the max)",
                    "sync": headline.side("sync (01_sync)", "flask run", sync, None),
                    "background": backgrounds,
                    "ratios": {b["server"]: sync_median / b["post_mailers"]["median"] for b in backgrounds},
                    "background_emails_delivered_during_run": delivered,
                    "background_jobs_enqueued": sum(b["post_mailers"]["n"] for b in backgrounds) + 20,
                    "target_ratio": 1000,
                }
                results["headline"]["target_met"] = {k: v >= 1000 for k, v in results["headline"]["ratios"].items()}

                log("\n== 3. Enqueue cost ==")
                purge()
                done = subprocess.run(
                    [sys.executable, "-m", "bench.enqueue", redis.url, str(args.enqueue_count)],
                    cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
                )
                cost = json.loads(done.stdout)
                purge()
                delay_p50 = cost["delay"]["median"]
                cost["web"] = {
                    b["server"]: {
                        "post_mailers_p50": b["post_mailers"]["median"],
                        "get_sent_p50": b["get_sent"]["median"],
                        "ratio_to_delay": b["post_mailers"]["median"] / delay_p50,
                        "target_met": b["post_mailers"]["median"] <= 2 * delay_p50,
                    }
                    for b in backgrounds
                }
                cost["target"] = "the web request's p50 within 2x of the bare delay() p50"
                results["enqueue"] = cost
                log(f"  delay() p50 {delay_p50 * 1000:.3f} ms, LPUSH p50 {cost['lpush']['median'] * 1000:.3f} ms")

        if "4" in sections:
            log("\n== 4. Workers at scale ==")
            with GiphyStandIn(delay=args.job_latency) as giphy:
                env = app_environment(redis.url, inbox, giphy.api_url)
                results["scale"] = scale.run(
                    redis.url, env, inbox, logs, purge, inbox=args.scale_inbox, even_runs=not args.no_extra_scale_runs,
                    concurrencies=tuple(args.concurrency), jobs=args.jobs, job_latency=args.job_latency, log=log,
                )
        if "5" in sections:
            log("\n== 5. Workers at scale, the I/O-bound lookup (stage 07): threads pools, Redis's own throughput ==")
            from bench import fleet

            results["fleet"] = fleet.run(
                redis.url, int(urlsplit(redis.url).port or 6379), logs, load_target(args.lookup_target),
                results["machine"]["cores"] or 1, job_counts=tuple(args.fleet_jobs),
                concurrencies=tuple(args.fleet_concurrency), latency=args.job_latency, log=log,
            )
            measured = fleet.sizing_inputs(results["fleet"], results.get("scale"))
            if measured:
                results["sizing"] = sizing_results(measured)
        log("\nstopping the stack...")


def load_target(spec: str) -> Any:
    """`module:NAME` to the LookupTarget it names (bench/lookup.py says what one holds)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "TARGET")


def sizing_results(measured: Any) -> dict[str, Any]:
    from bench import sizing

    return {
        "inputs": dataclasses.asdict(measured),
        "assumptions": {"peak_factor": sizing.PEAK_FACTOR, "broker_headroom": sizing.BROKER_HEADROOM},
        "per_day": {str(n): sizing.size(n, measured).as_dict() for n in (1_000_000, 100_000_000)},
        "one_redis_limit_emails_per_day": sizing.one_redis_limit(measured),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sections", default="12345", help="which sections to run, e.g. 45 (default: 12345)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each stage and its floor (median)")
    parser.add_argument("--selfcheck-repeats", type=int, default=1, help="timed runs of each self-check (median)")
    parser.add_argument("--selfcheck-integration", action="store_true",
                        help="also time `python -m kata selfcheck --integration` (what make test runs)")
    parser.add_argument("--no-extra-scale-runs", action="store_true",
                        help="skip section 4's supplementary runs (a job count that fills every round)")
    parser.add_argument("--giphy-delay", type=float, default=2.0)
    parser.add_argument("--sync-requests", type=int, default=5)
    parser.add_argument("--background-requests", type=int, default=200)
    parser.add_argument("--enqueue-count", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--job-latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--fleet-jobs", type=int, nargs="+", default=[100, 1000], help="section 5's job counts")
    parser.add_argument("--fleet-concurrency", type=int, nargs="+", default=[16, 32, 64, 128, 256],
                        help="section 5's threads-pool concurrencies")
    parser.add_argument("--lookup-target", default="bench.lookup:TARGET",
                        help="section 5's task, a module:NAME naming a bench.lookup.LookupTarget")
    parser.add_argument("--scale-inbox", choices=("aiosmtpd", "maildump"), default="aiosmtpd",
                        help="where section 4's emails go (see bench/scale.py)")
    parser.add_argument("--output", type=Path, default=RESULTS_JSON, help="where to write the JSON")
    parser.add_argument("--plot", type=Path, default=PLOT_PNG, help="where to write the PNG")
    args = parser.parse_args(argv)

    if set(args.sections) & set("2345") and not shutil.which("redis-server"):
        parser.exit(2, "make bench needs redis-server on PATH for sections 2-5 (apt-get install redis-server, "
                       "brew install redis), or run only the feedback loop: python -m bench --sections 1\n")
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine_info()}
    load, cores = results["machine"]["load_average_at_start"][0], results["machine"]["cores"] or 1
    if load > cores / 2:
        log(f"note: the machine is busy (load average {load:.1f} on {cores} cores): expect noisy figures")
    if "1" in args.sections:
        log(f"== 1. Feedback loop: pytest per stage beside its floor (median of {args.repeats}) ==")
        results["feedback"] = feedback.run(args.repeats, args.selfcheck_repeats, args.selfcheck_integration, log=log)
        log("   the learner's loop: kata hint, kata status, kata watch")
        results["feedback"]["loop"] = loop.run(args.repeats, log=log)
    if set(args.sections) & set("2345"):
        run_stack_sections(args.sections, args, results)
    results["bench_seconds"] = round(time.monotonic() - started, 1)
    leftovers = TRACKER.leftovers()
    results["processes_started"] = len(TRACKER.groups)
    results["processes_left_running"] = leftovers
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    args.output.write_text(json.dumps(results, indent=2) + "\n")
    plots: list[Path] = []
    try:
        from bench.plot import make_fleet_plot, make_plot

        plots = [p for p in (make_plot(results, args.plot), make_fleet_plot(results, args.plot.with_name("fleet.png"))) if p]
    except ImportError as missing:
        log(f"(no plot: {missing}; `make bench` installs the bench extra)")
    print("\n" + format_report(results))
    if not TRACKER.groups:
        pass
    elif leftovers:
        print(f"\nWARNING: {len(leftovers)} process(es) started by the bench are still running:\n  " + "\n  ".join(leftovers))
    else:
        print(f"\nall {len(TRACKER.groups)} process groups started by the bench (redis-server, maildump, flask, gunicorn, "
              "celery workers, the Giphy stand-in) have exited")
    print(f"\nwritten: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
          + "".join(f", {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}" for p in plots)
          + f"; the bench took {results['bench_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
