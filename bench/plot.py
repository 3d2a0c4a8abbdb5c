"""The PNG: the scale curve (prefork and threads beside the ideal) and the sync/background bars."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def _label_ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.2f} ms"


def make_plot(results: dict[str, Any], path: Path) -> Path | None:
    scale, headline = results.get("scale"), results.get("headline")
    if not scale and not headline:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), dpi=110)
    machine = results["machine"]
    figure.suptitle(
        f"Work-It Kata, `make bench`: {machine['cores']} cores, Python {machine['python']}, "
        f"celery {machine['versions']['celery']}, redis-server {machine['redis_server']}, {machine['date'][:10]}",
        fontsize=10,
    )

    if scale:
        runs, latency, jobs = scale["runs"], scale["job_latency_s"], scale["jobs"]
        levels = sorted({r["concurrency"] for r in runs})
        left.plot(levels, [c / latency for c in levels], "k--", label=f"ideal: concurrency / {latency:g} s")
        left.plot(levels, [0.8 * c / latency for c in levels], ":", color="grey", label="80% of ideal (target at 16)")
        left.plot(levels, [jobs / (math.ceil(jobs / c) * latency) for c in levels], "-.", color="tab:purple", alpha=0.6,
                  label=f"wave bound: {jobs} jobs in ceil({jobs}/c) rounds")
        for pool, style, color in (("prefork", "o-", "tab:blue"), ("threads", "s-", "tab:orange")):
            rows = sorted((r for r in runs if r["pool"] == pool), key=lambda r: r["concurrency"])
            if rows:
                xs, ys = [r["concurrency"] for r in rows], [r["jobs_per_s"] for r in rows]
                left.plot(xs, ys, style, color=color, label=f"{pool} pool, {jobs} jobs")
                left.annotate(f"{ys[-1]:.0f}/s ({rows[-1]['fraction_of_ideal']:.0%})", (xs[-1], ys[-1]),
                              textcoords="offset points", xytext=(10, -12 if pool == "threads" else 0), fontsize=8, color=color)
            for even in (r for r in scale.get("even_runs", []) if r["pool"] == pool):
                left.plot([even["concurrency"]], [even["jobs_per_s"]], "o" if pool == "prefork" else "s", mfc="none",
                          color=color, markersize=9, label=f"{pool}, {even['jobs']} jobs (full rounds): {even['fraction_of_ideal']:.0%}")
        left.set_xscale("log", base=2)
        left.set_yscale("log", base=2)
        left.set_xticks(levels, [str(c) for c in levels])
        left.set_xlim(min(levels) / 1.3, max(levels) * 2.2)
        ticks = [2 ** k for k in range(1, 8) if 2 ** k <= 2 * max(levels) / latency]
        left.set_yticks(ticks, [str(t) for t in ticks])
        left.minorticks_off()
        left.set_xlabel("worker concurrency (log scale)")
        left.set_ylabel("jobs per second (log scale)")
        left.set_title(f"Workers at scale: {jobs} jobs, each waiting {latency * 1000:.0f} ms on Giphy", fontsize=10)
        left.grid(True, alpha=0.3)
        left.legend(fontsize=7.5, loc="upper left")

    if headline:
        bars = [("sync app\n(flask run)", headline["sync"])]
        bars += [(f"background app\n({b['server']})", b) for b in headline["background"]]
        labels = [label for label, _ in bars]
        medians = [b["post_mailers"]["median"] * 1000 for _, b in bars]
        p99s = [b["post_mailers"]["p99"] * 1000 for _, b in bars]
        colors = ["tab:red"] + ["tab:green"] * (len(bars) - 1)
        positions = list(range(len(bars)))
        right.bar(positions, medians, color=colors, alpha=0.8, label="median")
        right.plot(positions, p99s, "k_", markersize=30, markeredgewidth=2, label="p99")
        for x, value, p99 in zip(positions, medians, p99s):
            text = _label_ms(value)
            if x > 0:
                text += f"\n{medians[0] / value:,.0f}x faster"
            right.annotate(text, (x, max(value, p99)), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=9)
        right.set_xticks(positions, labels, fontsize=9)
        right.set_yscale("log")
        right.set_ylabel("POST /mailers response time (ms, log scale)")
        right.set_title(f"The same form post, Giphy answering after {headline['giphy_delay_s']:.0f} s", fontsize=10)
        right.grid(True, axis="y", alpha=0.3, which="major")
        right.legend(fontsize=8, loc="upper right")
        right.set_ylim(0.3, max(p99s) * 6)

    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def make_fleet_plot(results: dict[str, Any], path: Path) -> Path | None:
    """Section 5: jobs/s against threads-pool concurrency, beside the bounds measured in the same run."""
    fleet = results.get("fleet")
    if not fleet or not fleet.get("runs"):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bench import sizing

    runs, latency, cores = fleet["runs"], fleet["job_latency_s"], fleet["cores"]
    levels = sorted({r["concurrency"] for r in runs})
    top_jobs = max(r["jobs"] for r in runs)
    single = sorted((r for r in runs if r["jobs"] == top_jobs and r["processes"] == 1), key=lambda r: r["concurrency"])
    cpu = fleet["summary"]["crossover"].get(f"{top_jobs} jobs, 1 process(es)", {}).get("worker_cpu_s_per_job_median")

    figure, axes = plt.subplots(figsize=(9, 6), dpi=110)
    machine = results["machine"]
    figure.suptitle(
        f"`make bench` section 5: the Giphy lookup ({latency * 1000:.0f} ms each) through celery worker --pool=threads\n"
        f"{cores} cores (shared), Python {machine['python']}, celery {machine['versions']['celery']}, "
        f"redis-server {machine['redis_server']}, {machine['date'][:16].replace('T', ' ')} UTC",
        fontsize=9.5,
    )
    axes.plot(levels, [sizing.ideal(c, latency) for c in levels], "k--", label=f"ideal: concurrency / {latency:g} s")
    if cpu:
        axes.axhline(sizing.cpu_bound(cores, cpu), color="tab:red", ls=":",
                     label=f"CPU bound: {cores} cores / {cpu * 1000:.2f} ms worker CPU per job")
        axes.axhline(sizing.cpu_bound(1, cpu), color="tab:red", ls="-.", alpha=0.6,
                     label="one process's bound (the GIL: one core)")
        crossing = sizing.predicted_crossover(latency, 1, cpu)
        axes.axvline(crossing, color="grey", alpha=0.4)
        axes.annotate(f"one process saturates\nat c = {crossing:.0f}", (crossing, sizing.cpu_bound(1, cpu)),
                      textcoords="offset points", xytext=(6, -34), fontsize=8, color="grey")
    styles = {(top_jobs, 1): ("o-", "tab:blue"), (top_jobs, 2): ("D-", "tab:green")}
    for jobs, processes in sorted({(r["jobs"], r["processes"]) for r in runs}):
        rows = sorted((r for r in runs if r["jobs"] == jobs and r["processes"] == processes), key=lambda r: r["concurrency"])
        style, color = styles.get((jobs, processes), ("s--", "tab:orange"))
        label = f"{jobs} jobs, {processes} worker process{'es' if processes > 1 else ''}"
        axes.plot([r["concurrency"] for r in rows], [r["jobs_per_s"] for r in rows], style, color=color, label=label)
    available = [r["available_cpu_bound_jobs_per_s"] for r in single if r.get("available_cpu_bound_jobs_per_s")]
    if available:
        axes.plot([r["concurrency"] for r in single if r.get("available_cpu_bound_jobs_per_s")], available, "x",
                  color="tab:purple", label="what the cores others left could do (at the run's whole CPU per job)")
    observed = fleet["summary"]["crossover"].get(f"{top_jobs} jobs, 1 process(es)", {}).get("observed")
    if observed:
        rate = next(r["jobs_per_s"] for r in single if r["concurrency"] == observed)
        axes.annotate(f"measured crossover: c = {observed}", (observed, rate), textcoords="offset points",
                      xytext=(-40, 18), fontsize=8.5, color="tab:blue", arrowprops={"arrowstyle": "->", "color": "tab:blue"})
    axes.set_xscale("log", base=2)
    axes.set_yscale("log", base=2)
    axes.set_xticks(levels, [str(c) for c in levels])
    ticks = [2 ** k for k in range(4, 12) if 2 ** k <= 2 * max(levels) / latency]
    axes.set_yticks(ticks, [str(t) for t in ticks])
    axes.minorticks_off()
    axes.set_xlabel("threads-pool concurrency, in all (log scale)")
    axes.set_ylabel("jobs per second (log scale)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7.5, loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
