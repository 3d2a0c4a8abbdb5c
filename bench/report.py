"""The table `make bench` prints, built from the results dictionary (the same as results.json)."""

from __future__ import annotations

from typing import Any

from bench.common import ms
from bench.fleet import JOB_COMMANDS


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def format_report(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = m["versions"]
    out = [
        (f"Work-It Kata benchmarks, {m['date']} (commit {m['git_commit']}"
        f"{', with uncommitted changes in kata/stages/solutions' if m.get('uncommitted_changes_in_measured_code') else ''})"),
        (f"machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"redis-server {m['redis_server']}; load average {m['load_average_at_start'][0]:.2f} at start, "
        f"{m.get('load_average_at_end', [float('nan')])[0]:.2f} at end"),
        (f"versions: celery {v['celery']}, kombu {v['kombu']}, redis-py {v['redis']}, flask {v['flask']}, "
        f"werkzeug {v['werkzeug']}, gunicorn {v['gunicorn']}"),
    ]

    if fb := results.get("feedback"):
        out += ["", f"1. Feedback loop: pytest stages/NN_x --solutions -q (median of {fb['repeats']})",
                f"   {'stage':<12}{'run':>9}{'floor':>9}{'ratio':>8}   target <= 3x"]
        for row in fb["stages"]:
            note = "" if row["passed"] else f"  (tests FAILED: {row['outcome']})"
            out.append(f"   {row['stage']:<12}{row['median_s']:>7.2f} s{row['floor_median_s']:>7.2f} s"
                       f"{row['ratio']:>7.2f}x   {_met(row['target_met'])}{note}")
            for line in row.get("slowest", []):
                out.append(f"       {line}")
        if fb.get("loop"):
            from bench.loop import report_lines

            out += report_lines(fb["loop"], _met)
        for label, sc in fb["selfcheck"].items():
            runs = "median of " + str(sc["runs"]) if sc.get("runs", 1) > 1 else "one run"
            out.append(f"   python -m kata {label:<26}{sc['median_s']:>7.2f} s   ({runs}) target <= 10 s: {_met(sc['target_met'])}"
                       + ("" if sc["passed"] else "  (self-check FAILED)"))

    if hl := results.get("headline"):
        out += ["", f"2. Headline: POST /mailers, Giphy answering after {hl['giphy_delay_s']:.0f} s, same Redis and inbox",
                f"   {'app':<26}{'server':<22}{'n':>5}{'median':>12}{'p99':>12}"]
        for side in [hl["sync"], *hl["background"]]:
            s = side["post_mailers"]
            out.append(f"   {side['app']:<26}{side['server']:<22}{s['n']:>5}{ms(s['median']):>12}{ms(s['p99']):>12}")
        for server, ratio in hl["ratios"].items():
            out.append(f"   sync / background median, {server}: {ratio:,.0f}x   target >= 1000x: {_met(ratio >= 1000)}")
        out.append(f"   background emails delivered by the worker during the run: {hl['background_emails_delivered_during_run']}"
                   f" (of {hl['background_jobs_enqueued']} enqueued; each job waits {hl['giphy_delay_s']:.0f} s on Giphy)")

    if eq := results.get("enqueue"):
        d = eq["delay"]["median"]
        out += ["", "3. Enqueue cost (p50)",
                f"   {'bare send_randomness_email.delay()':<44}{ms(d):>10}   ({eq['count']} calls)",
                (f"   {'raw redis LPUSH, same ' + str(eq['message_bytes']) + ' bytes':<44}{ms(eq['lpush']['median']):>10}"
                f"   (delay() sends: {', '.join(f'{k.upper()} x{n:g}' for k, n in eq['redis_commands_per_delay'].items())})")]
        for server, web in eq["web"].items():
            out.append(f"   {'POST /mailers, ' + server:<44}{ms(web['post_mailers_p50']):>10}   {web['ratio_to_delay']:.1f}x delay()"
                       f"   target <= 2x: {_met(web['target_met'])}")
            out.append(f"   {'  GET /sent (HTTP floor), ' + server:<44}{ms(web['get_sent_p50']):>10}")
        if view := eq.get("in_process_test_client"):
            post = view["post_mailers"]["median"]
            out.append(f"   {'POST /mailers, Flask test client (no HTTP)':<44}{ms(post):>10}   {post / d:.1f}x delay()")
            out.append(f"   {'  refused POST (400, enqueues nothing)':<44}{ms(view['post_mailers_refused_400']['median']):>10}")
            out.append(f"   {'  GET /sent':<44}{ms(view['get_sent']['median']):>10}")

    if sc := results.get("scale"):
        probe = sc["smtp_send_median_s"]
        out += ["", f"4. Workers at scale: {sc['jobs']} jobs, each waiting {sc['job_latency_s'] * 1000:.0f} ms on Giphy",
                f"   inbox: {sc['inbox']}",
                f"   one email to maildump {ms(probe['maildump'])}, to aiosmtpd {ms(probe['aiosmtpd'])}",
                f"   {'pool':<9}{'conc.':>5}{'jobs/s':>9}{'ideal':>8}{'of ideal':>10}{'wave bound':>12}{'seconds':>9}{'task p50':>10}{'CPU/job':>10}"]
        for r in sc["runs"] + sc.get("even_runs", []):
            if r is sc.get("even_runs", [None])[0]:
                out.append(f"   supplementary: {r['jobs']} jobs at the top concurrency, every wave full")
            flag = "" if r["finished"] else f"  TIMED OUT ({r['completed']}/{r['jobs']})"
            task = "-" if r["task_runtime_median_s"] is None else ms(r["task_runtime_median_s"])
            cpu = "-" if r["worker_cpu_s_per_job"] is None else ms(r["worker_cpu_s_per_job"])
            out.append(f"   {r['pool']:<9}{r['concurrency']:>5}{r['jobs_per_s']:>9.1f}{r['ideal_jobs_per_s']:>8.0f}"
                       f"{r['fraction_of_ideal']:>10.0%}{r['wave_bound_fraction_of_ideal']:>12.0%}{r['seconds']:>9.2f}{task:>10}{cpu:>10}{flag}")
        for key, ok in sc.items():
            if key.startswith("target_met_"):
                out.append(f"   {key.removeprefix('target_met_')} at the top concurrency >= 80% of ideal: {_met(ok)}")
        out.append("   wave bound: the best a pool can do when the jobs do not split evenly over its slots, "
                   "jobs / (ceil(jobs / concurrency) x latency); CPU/job: the worker's own CPU time")
    if fl := results.get("fleet"):
        out += fleet_lines(fl)
    if sz := results.get("sizing"):
        out += sizing_lines(sz)
    return "\n".join(out)


def _opt(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def fleet_lines(fl: dict[str, Any]) -> list[str]:
    rt = fl["redis_throughput"]
    out = ["", (f"5. Workers at scale, the I/O-bound lookup: celery worker --pool=threads, each job waiting "
                f"{fl['job_latency_s'] * 1000:.0f} ms on `kata giphy-standin`"),
           f"   task: {fl['lookup_target']['task']} (-A {fl['lookup_target']['celery_app']}, queue {fl['lookup_target']['queue']})",
           (f"   {'jobs':>5}{'conc.':>6}{'proc':>5}{'jobs/s':>8}{'ideal':>7}{'CPU bd':>8}{'lower':>7}{'of lower':>9}"
            f"{'CPU/job':>9}{'1-proc bd':>10}{'all CPU':>9}{'others':>8}{'avail bd':>9}{'of best':>9}")]
    for r in fl["runs"]:
        flag = "" if r["finished"] else f"  TIMED OUT ({r['completed']}/{r['jobs']})"
        out.append(
            f"   {r['jobs']:>5}{r['concurrency']:>6}{r['processes']:>5}{r['jobs_per_s']:>8.1f}{r['ideal_jobs_per_s']:>7.0f}"
            f"{_opt(r['cpu_bound_jobs_per_s'], '.0f'):>8}{r['lower_bound_jobs_per_s']:>7.0f}{r['fraction_of_lower_bound']:>9.0%}"
            f"{_opt(r['worker_cpu_s_per_job'] and r['worker_cpu_s_per_job'] * 1000, '.2f'):>7} ms"
            f"{_opt(r['one_process_cpu_bound_jobs_per_s'], '.0f'):>10}"
            f"{_opt(r['bench_cpu_s_per_job'] and r['bench_cpu_s_per_job'] * 1000, '.2f'):>6} ms"
            f"{_opt(r['other_users_busy_cores'], '.2f'):>8}{_opt(r['available_cpu_bound_jobs_per_s'], '.0f'):>9}"
            f"{_opt(r.get('fraction_of_achievable'), '.0%'):>9}"
            f"   {'met' if r['target_met'] else 'MISSED'}{flag}")
    out.append("   ideal = concurrency / latency; CPU bd = cores / the workers' CPU per job; lower = the least of those and the"
               " wave bound (jobs / (ceil(jobs / c) x latency)); target >= 80% of lower.")
    out.append("   1-proc bd = processes / CPU per job (a threads pool runs Python on one core at a time); all CPU = workers,"
               " stand-in, redis-server and the bench per job; others = cores busy with the machine's other users;"
               " avail bd = (cores - others) / all CPU; of best: of the least of ideal, wave, 1-proc and avail bounds")
    troubled = [r for r in fl["runs"] if r.get("failed") or r.get("listen_overflows")]
    for r in troubled:
        out.append(f"   {r['jobs']} jobs at {r['concurrency']} in {r['processes']}: {r.get('failed', 0)} lookups failed,"
                   f" {r.get('listen_overflows')} connections dropped by a full listening queue (anywhere on this machine)")
    for label, c in fl["summary"]["crossover"].items():
        observed = "beyond the measured range" if c["observed"] is None else f"c = {c['observed']}"
        out.append(f"   crossover, {label}: measured {observed} (the next level adds < 10%); predicted"
                   f" {_opt(c['predicted_per_process_gil'], '.0f')} per process (latency x processes / CPU per job),"
                   f" {_opt(c['predicted_machine'], '.0f')} for the machine (latency x cores / CPU per job)")
    rows = [r for r in fl["runs"] if r["jobs"] == max(x["jobs"] for x in fl["runs"]) and r["processes"] == 1]
    if rows:
        r = rows[-1]
        out.append(f"   Redis commands per job ({r['jobs']} jobs, c = {r['concurrency']}): {r['redis_commands_per_job']:.1f}; queueing: "
                   + ", ".join(f"{k} {v / r['jobs']:.2g}" for k, v in r["redis_commands_producer"].items() if v >= r["jobs"] / 2)
                   + "; the worker: "
                   + ", ".join(f"{k} {v / r['jobs']:.2g}" for k, v in r["redis_commands_worker"].items() if v >= r["jobs"] / 2)
                   + f"; one message {r['message_bytes']} bytes")
    out.append(f"   one redis-server here: {rt['commands_per_s']:,.0f} commands/s (the slowest of what a job sends:"
               f" {', '.join(JOB_COMMANDS)}; all: "
               + ", ".join(f"{k} {v:,.0f}" for k, v in rt["unpipelined"].items())
               + f"; pipelined by 16: {', '.join(f'{k} {v:,.0f}' for k, v in rt['pipelined_16'].items())}); {rt['tool']}")
    out.append(f"   target >= 80% of the lower bound at every run: {'met' if fl['summary']['target_met_everywhere'] else 'MISSED'}")
    return out


def sizing_lines(sz: dict[str, Any]) -> list[str]:
    i = sz["inputs"]
    out = ["", (f"Past one machine (peak = {sz['assumptions']['peak_factor']:g}x the day's average, an assumption; "
                f"from section 5: {i['jobs_per_s_per_process']:.0f} lookups/s per process, "
                f"{i['redis_commands_per_job']:.1f} Redis commands/job, {i['redis_commands_per_s']:,.0f} commands/s per redis-server)")]
    for per_day, s in sz["per_day"].items():
        email = "" if s["email_cores"] is None else f" + {s['email_cores']:.1f} cores of email workers"
        out.append(f"   {int(per_day):>11,} emails/day: {s['average_per_s']:.1f}/s average, {s['peak_per_s']:.0f}/s at peak;"
                   f" {s['lookup_processes']} lookup processes{email}, {s['machines']} machines of {i['cores_per_machine']} cores;"
                   f" broker {s['broker_commands_per_s']:,.0f} commands/s = {s['broker_share']:.0%} of one redis-server")
    out.append(f"   one redis-server (as measured here) is half busy at {sz['one_redis_limit_emails_per_day']:,.0f} emails/day")
    return out
