"""The arithmetic of section 5 and of "Past one machine": bounds, the crossover, a fleet's size.

Pure functions of measured figures, so they can be tested without timing anything
(kata/tests/test_bench_sizing.py). Rates are in jobs per second, times in seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

SECONDS_PER_DAY = 86_400
# Assumption, not a measurement: the busiest hour carries 3x a day's average rate.
PEAK_FACTOR = 3.0
# Assumption: keep a broker at most half busy, for bursts and for failing over.
BROKER_HEADROOM = 0.5
# The threshold for "more concurrency stops helping": the next level adds less than 10%.
CROSSOVER_GAIN = 0.10


def ideal(concurrency: int, latency: float) -> float:
    """Every slot always busy with a job that only waits: concurrency / latency."""
    return concurrency / latency


def wave_bound(jobs: int, concurrency: int, latency: float) -> float:
    """The best rate when `jobs` do not split evenly over the slots: ceil(jobs / c) rounds."""
    return jobs / (math.ceil(jobs / concurrency) * latency)


def cpu_bound(cores: float, cpu_per_job: float) -> float:
    """What `cores` can do when each job costs `cpu_per_job` seconds of CPU: cores / CPU per job."""
    return cores / cpu_per_job


def lower_bound(jobs: int, concurrency: int, latency: float, cores: float, cpu_per_job: float | None) -> float:
    """The lowest of the ideal, the wave bound and the CPU bound (without a CPU figure, the other two)."""
    bounds = [ideal(concurrency, latency), wave_bound(jobs, concurrency, latency)]
    if cpu_per_job:
        bounds.append(cpu_bound(cores, cpu_per_job))
    return min(bounds)


def predicted_crossover(latency: float, cores: float, cpu_per_job: float) -> float:
    """The concurrency where the ideal meets the CPU bound: c / latency = cores / CPU per job.

    Little's law read backwards: the jobs in flight when the CPU is saturated.
    """
    return latency * cpu_bound(cores, cpu_per_job)


def observed_crossover(points: Sequence[tuple[int, float]], gain: float = CROSSOVER_GAIN) -> int | None:
    """The first measured concurrency after which the next level adds less than `gain` jobs/s
    (as a fraction); None when every step up still helps (the crossover lies beyond the range)."""
    ordered = sorted(points)
    for (concurrency, rate), (_, next_rate) in itertools.pairwise(ordered):
        if next_rate < rate * (1 + gain):
            return concurrency
    return None


@dataclass(frozen=True)
class Measured:
    """The figures a sizing starts from, each from the bench's own run (see results.json)."""

    jobs_per_s_per_process: float  # one threads-pool lookup worker, its best measured rate
    cores_per_machine: int  # of the machine it was measured on
    processes_per_machine: int  # lookup workers that fit one such machine (one per core: the GIL)
    latency: float  # seconds each lookup waits on Giphy
    redis_commands_per_job: float  # producer and worker together, from INFO commandstats
    redis_commands_per_s: float  # what one redis-server carried on this machine
    message_bytes: int  # one queued lookup, as Redis holds it
    jobs_per_email: int = 2  # stage 07 chains the lookup and the email: two jobs per email
    email_cpu_per_job: float | None = None  # CPU seconds of one email job (section 4, prefork)


@dataclass(frozen=True)
class Sizing:
    emails_per_day: int
    average_per_s: float
    peak_per_s: float
    lookups_in_flight: float  # Little's law at the peak: rate x latency
    lookup_processes: int
    email_cores: float | None
    machines: int
    broker_commands_per_s: float
    broker_share: float  # of one redis-server's measured throughput
    one_redis_enough: bool
    queued_bytes_per_hour: float  # what an hour without workers leaves in the broker (average rate)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def size(emails_per_day: int, measured: Measured, peak_factor: float = PEAK_FACTOR,
         headroom: float = BROKER_HEADROOM) -> Sizing:
    """How many worker processes, machines and broker commands `emails_per_day` needs at its peak."""
    average = emails_per_day / SECONDS_PER_DAY
    peak = average * peak_factor
    lookup_processes = math.ceil(peak / measured.jobs_per_s_per_process)
    email_cores = peak * measured.email_cpu_per_job if measured.email_cpu_per_job else None
    # A lookup process keeps about one core busy (the GIL); the email workers need their cores beside them.
    cores = lookup_processes * measured.cores_per_machine / measured.processes_per_machine + (email_cores or 0.0)
    machines = math.ceil(cores / measured.cores_per_machine)
    commands = peak * measured.redis_commands_per_job * measured.jobs_per_email
    share = commands / measured.redis_commands_per_s
    return Sizing(
        emails_per_day=emails_per_day,
        average_per_s=average,
        peak_per_s=peak,
        lookups_in_flight=peak * measured.latency,
        lookup_processes=lookup_processes,
        email_cores=email_cores,
        machines=machines,
        broker_commands_per_s=commands,
        broker_share=share,
        one_redis_enough=share <= headroom,
        queued_bytes_per_hour=average * 3600 * measured.message_bytes * measured.jobs_per_email,
    )


def one_redis_limit(measured: Measured, peak_factor: float = PEAK_FACTOR, headroom: float = BROKER_HEADROOM) -> float:
    """Emails a day at which one redis-server (as measured) would be `headroom` busy at the peak."""
    per_email = measured.redis_commands_per_job * measured.jobs_per_email
    return measured.redis_commands_per_s * headroom / per_email / peak_factor * SECONDS_PER_DAY
