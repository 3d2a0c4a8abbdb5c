"""The bench's arithmetic (bench/sizing.py, bench/fleet.py's log reading): bounds, crossover, sizing.

Pure functions of given figures: nothing here starts a process or measures a time.
"""

from __future__ import annotations

import datetime
import math

import pytest

from bench import fleet, sizing

MEASURED = sizing.Measured(
    jobs_per_s_per_process=200.0,
    cores_per_machine=2,
    processes_per_machine=2,
    latency=0.2,
    redis_commands_per_job=10.0,
    redis_commands_per_s=40_000.0,
    message_bytes=1000,
    jobs_per_email=2,
    email_cpu_per_job=0.005,
)


def test_ideal_is_concurrency_over_latency() -> None:
    assert sizing.ideal(16, 0.2) == pytest.approx(80)
    assert sizing.ideal(128, 0.2) == pytest.approx(640)


def test_wave_bound_counts_the_last_partly_filled_round() -> None:
    assert sizing.wave_bound(100, 16, 0.2) == pytest.approx(100 / (7 * 0.2))  # 7 rounds, the last of 4 jobs
    assert sizing.wave_bound(160, 16, 0.2) == pytest.approx(sizing.ideal(16, 0.2))  # full rounds: the ideal
    assert sizing.wave_bound(100, 128, 0.2) == pytest.approx(500)  # one round: every job at once


def test_cpu_bound_is_cores_over_cpu_per_job() -> None:
    assert sizing.cpu_bound(2, 0.004) == pytest.approx(500)


def test_lower_bound_is_the_least_of_the_three() -> None:
    assert sizing.lower_bound(1024, 16, 0.2, 2, 0.004) == pytest.approx(80)  # the ideal (full rounds)
    assert sizing.lower_bound(1000, 128, 0.2, 2, 0.004) == pytest.approx(500)  # the CPU
    assert sizing.lower_bound(100, 64, 0.2, 2, 0.001) == pytest.approx(250)  # the waves: 2 rounds
    assert sizing.lower_bound(1024, 128, 0.2, 2, None) == pytest.approx(640)  # no CPU figure: not a bound


def test_predicted_crossover_is_where_ideal_meets_the_cpu_bound() -> None:
    crossing = sizing.predicted_crossover(0.2, 2, 0.004)
    assert crossing == pytest.approx(100)
    assert sizing.ideal(round(crossing), 0.2) == pytest.approx(sizing.cpu_bound(2, 0.004))


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([(16, 70), (32, 140), (64, 230), (128, 240), (256, 180)], 64),  # 64 -> 128 adds 4%
        ([(128, 240), (16, 70), (64, 230), (32, 140)], 64),  # order does not matter
        ([(16, 70), (32, 140), (64, 280)], None),  # still growing: beyond the range
        ([(16, 70), (32, 60)], 16),  # a drop counts as no help
        ([(16, 70)], None),
    ],
)
def test_observed_crossover(points: list[tuple[int, float]], expected: int | None) -> None:
    assert sizing.observed_crossover(points) == expected


def test_observed_crossover_threshold_is_a_fraction() -> None:
    assert sizing.observed_crossover([(16, 100), (32, 109)]) == 16
    assert sizing.observed_crossover([(16, 100), (32, 111)]) is None


def test_sizing_one_million_a_day() -> None:
    s = sizing.size(1_000_000, MEASURED, peak_factor=3)
    assert s.average_per_s == pytest.approx(1_000_000 / 86_400)
    assert s.peak_per_s == pytest.approx(3 * 1_000_000 / 86_400)  # 34.7/s
    assert s.lookups_in_flight == pytest.approx(s.peak_per_s * 0.2)  # Little's law
    assert s.lookup_processes == 1
    assert s.email_cores == pytest.approx(s.peak_per_s * 0.005)
    assert s.machines == 1  # one core of lookups and 0.17 of email fit one machine of two
    assert s.broker_commands_per_s == pytest.approx(s.peak_per_s * 10 * 2)
    assert s.broker_share == pytest.approx(s.broker_commands_per_s / 40_000)
    assert s.one_redis_enough
    assert s.queued_bytes_per_hour == pytest.approx(1_000_000 / 86_400 * 3600 * 1000 * 2)


def test_sizing_one_hundred_million_a_day() -> None:
    s = sizing.size(100_000_000, MEASURED, peak_factor=3)
    peak = 3 * 100_000_000 / 86_400  # 3472/s
    assert s.lookup_processes == math.ceil(peak / 200) == 18
    assert s.machines == math.ceil((18 + peak * 0.005) / 2) == 18  # 18 cores of lookups, 17.4 of email
    assert s.broker_commands_per_s == pytest.approx(peak * 20)  # 69,444/s
    assert not s.one_redis_enough


def test_one_redis_limit_is_where_the_share_reaches_the_headroom() -> None:
    limit = sizing.one_redis_limit(MEASURED, peak_factor=3, headroom=0.5)
    assert sizing.size(round(limit), MEASURED, peak_factor=3, headroom=0.5).broker_share == pytest.approx(0.5, rel=1e-6)
    assert sizing.size(round(limit * 0.99), MEASURED, peak_factor=3, headroom=0.5).one_redis_enough
    assert not sizing.size(round(limit * 1.01), MEASURED, peak_factor=3, headroom=0.5).one_redis_enough


def test_successes_reads_the_workers_log_lines() -> None:
    log = (
        "[2026-12-02 01:20:00,100: INFO/MainProcess] Task bench.look_up_gif[ab-1] received\n"
        "[2026-12-02 01:20:00,305: INFO/MainProcess] Task bench.look_up_gif[ab-1] succeeded in 0.2045s: 'https://x'\n"
        "[2026-12-02 01:20:00,306: INFO/MainProcess] Task other.task[ab-2] succeeded in 0.1s: None\n"
        "[2026-12-02 01:20:01,000: INFO/ForkPoolWorker-1] Task bench.look_up_gif[ab-3] succeeded in 0.25s: 'https://y'\n"
    )
    found = fleet.successes(log, "bench.look_up_gif")
    assert [runtime for _, runtime in found] == [0.2045, 0.25]
    first = datetime.datetime(2026, 12, 2, 1, 20, 0, 305_000).timestamp()
    assert found[0][0] == pytest.approx(first)
    assert found[1][0] - found[0][0] == pytest.approx(0.695)


def test_log_follower_counts_each_line_once_even_when_cut_in_half(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "worker.log"
    line = "[2026-12-02 01:20:00,305: INFO/MainProcess] Task t[{}] succeeded in 0.2s: None\n"
    path.write_text(line.format(1) + line.format(2)[:30])
    follower = fleet.LogFollower(path, "t")
    assert len(follower.poll()) == 1
    with open(path, "a") as log:
        log.write(line.format(2)[30:] + line.format(3))
    assert len(follower.poll()) == 3
    assert len(follower.poll()) == 3


def test_counts_delta_keeps_only_what_changed() -> None:
    assert fleet.counts_delta({"LPUSH": 5, "GET": 2}, {"LPUSH": 105, "GET": 2, "BRPOP": 100}) == {"BRPOP": 100, "LPUSH": 100}
