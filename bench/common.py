"""Shared helpers: where things are, summary statistics, what machine this ran on."""

from __future__ import annotations

import datetime
import math
import os
import platform
import shutil
import statistics
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS_JSON = BENCH / "results.json"
PLOT_PNG = BENCH / "bench.png"


@dataclass(frozen=True)
class Summary:
    """Timings in seconds: how many, median, p99 (nearest rank: the max below 100 samples), min, max."""

    n: int
    median: float
    p99: float
    min: float
    max: float

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        ordered = sorted(samples)
        rank = max(1, math.ceil(0.99 * len(ordered)))
        return cls(len(ordered), statistics.median(ordered), ordered[rank - 1], ordered[0], ordered[-1])

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ms(seconds: float) -> str:
    """A duration for a table: 2012 ms, 1.84 ms, 0.052 ms."""
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value:.3f} ms"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def redis_server_version() -> str | None:
    binary = shutil.which("redis-server")
    if not binary:
        return None
    out = subprocess.run([binary, "--version"], check=False, capture_output=True, text=True, timeout=10).stdout
    for word in out.split():
        if word.startswith("v="):
            return word[2:]
    return out.strip() or None


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def git_dirty() -> bool | None:
    """Whether the measured code (kata, stages, solutions) differs from the commit."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", "kata", "stages", "solutions"],
                             check=False, cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip()) if out.returncode == 0 else None


def machine_info() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "uncommitted_changes_in_measured_code": git_dirty(),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "redis_server": redis_server_version(),
        "versions": {
            name: _version(name)
            for name in ("celery", "kombu", "redis", "flask", "werkzeug", "gunicorn", "pytest", "fakeredis", "maildump", "matplotlib")
        },
    }


class CpuMeter:
    """Machine-wide CPU use between start() and stop(), from /proc/stat (None elsewhere)."""

    def __init__(self) -> None:
        self._start: tuple[int, int] | None = None

    @staticmethod
    def _read() -> tuple[int, int] | None:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except (OSError, ValueError, IndexError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    def start(self) -> None:
        self._start = self._read()

    def busy_cores(self) -> float | None:
        """Average number of busy cores since start()."""
        end = self._read()
        if self._start is None or end is None:
            return None
        total, idle = end[0] - self._start[0], end[1] - self._start[1]
        if total <= 0:
            return None
        return round((1 - idle / total) * (os.cpu_count() or 1), 2)


def _processes() -> list[tuple[int, int, int, str]]:
    """(pid, ppid, pgid, command) of every live process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        _head, _, rest = stat.rpartition(")")
        fields = rest.split()
        if fields[0] == "Z":  # a zombie has exited: only its parent's wait() is missing
            continue
        found.append((int(entry.name), int(fields[1]), int(fields[2]), command))
    return found


class ProcessTracker:
    """Remembers the process groups of everything this process started, to check they all ended."""

    def __init__(self) -> None:
        self.groups: set[int] = set()

    def snapshot(self) -> None:
        processes = _processes()
        children: dict[int, list[tuple[int, int]]] = {}
        for pid, ppid, pgid, _ in processes:
            children.setdefault(ppid, []).append((pid, pgid))
        todo = [os.getpid()]
        while todo:
            for pid, pgid in children.get(todo.pop(), []):
                if pgid != os.getpgid(0):
                    self.groups.add(pgid)
                todo.append(pid)

    def leftovers(self) -> list[str]:
        return [f"{pid} {command}" for pid, _, pgid, command in _processes() if pgid in self.groups]


TRACKER = ProcessTracker()


def group_cpu_seconds(pgid: int) -> float | None:
    """CPU seconds (user + system) used so far by the live processes of process group `pgid`."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks
