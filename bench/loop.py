"""Section 1, the learner's loop: what `kata hint`, `kata status` and `kata watch` cost.

All in a temporary copy of the kata (its `.kata/results` and edits stay there), ratios from
one run:
- `kata hint 02` with nothing changed (its result kept) beside `python -c pass`: target 3x;
- `kata status` after an edit to one stage beside that stage's own `pytest` run: 1.3x;
- a watch re-run of each stage (kata.warm: a forked warm interpreter) beside a cold
  `pytest stages/NN_x` run through the same runner: at most half.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT

HINT_TARGET, STATUS_TARGET, WATCH_TARGET = 3.0, 1.3, 0.5
COPIED = ("stages", "kata", "conftest.py", "pyproject.toml")
EDITED = "02_redis"


def _copy(destination: Path) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".kata", *(["tests"] if name == "kata" else []))
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination


def _timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    return time.perf_counter() - started


def _median(function: Any, repeats: int) -> float:
    return statistics.median(function() for _ in range(repeats))


def run(repeats: int = 3, log: Any = print) -> dict[str, Any]:
    from kata.layout import Stage
    from kata.runner import run_tests
    from kata.warm import WarmRunner, fork_is_safe

    kata = [sys.executable, "-m", "kata"]
    results: dict[str, Any] = {"repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="kata-loop-") as tmp:
        root = _copy(Path(tmp))
        _timed([*kata, "status"], root)  # every stage's result kept
        bare = _median(lambda: _timed([sys.executable, "-c", "pass"], root), repeats)
        hint = _median(lambda: _timed([*kata, "hint", EDITED], root), repeats)
        results["hint"] = {"seconds": hint, "bare_python_s": bare, "ratio": hint / bare, "target_met": hint / bare <= HINT_TARGET}
        log(f"  kata hint {EDITED[:2]}, nothing changed: {hint:.2f} s, python -c pass {bare:.2f} s, {hint / bare:.1f}x")

        jobs = root / "stages" / EDITED / "workit" / "jobs.py"

        def status_after_edit() -> float:
            jobs.write_text(jobs.read_text() + "\n")
            return _timed([*kata, "status"], root)

        status = _median(status_after_edit, repeats)
        alone = _median(lambda: _timed([sys.executable, "-m", "pytest", f"stages/{EDITED}", "-q", "-p", "no:cacheprovider"], root), repeats)
        results["status"] = {"seconds": status, "stage_pytest_s": alone, "ratio": status / alone, "target_met": status / alone <= STATUS_TARGET}
        log(f"  kata status after editing {EDITED}: {status:.2f} s, pytest stages/{EDITED} {alone:.2f} s, {status / alone:.2f}x")

        results["watch"] = []
        if fork_is_safe():
            warm = WarmRunner()
            for stage in sorted(p.name for p in (root / "stages").iterdir() if p.is_dir() and p.name[:2].isdigit()):
                def once(launcher: Any = None, name: str = stage) -> float:
                    started = time.perf_counter()
                    run_tests(root, [Stage(root, name)], launcher=launcher, time_limit=300)
                    return time.perf_counter() - started

                once(warm.launch)  # the first warm run compiles what the parent did not import
                rerun, cold = _median(lambda: once(warm.launch), repeats), _median(once, repeats)
                row = {"stage": stage, "warm_s": rerun, "cold_s": cold, "ratio": rerun / cold, "target_met": rerun / cold <= WATCH_TARGET}
                results["watch"].append(row)
                log(f"  watch re-run of {stage}: {rerun:.2f} s, cold {cold:.2f} s, {rerun / cold:.2f}x")
    return results


def report_lines(loop: dict[str, Any], met: Any) -> list[str]:
    hint, status = loop["hint"], loop["status"]
    lines = [
        (f"   kata hint, nothing changed {hint['seconds']:>7.2f} s   python -c pass {hint['bare_python_s']:.2f} s: "
        f"{hint['ratio']:.1f}x   target <= {HINT_TARGET:g}x: {met(hint['target_met'])}"),
        (f"   kata status, one stage edited {status['seconds']:>5.2f} s   that stage's pytest {status['stage_pytest_s']:.2f} s: "
        f"{status['ratio']:.2f}x   target <= {STATUS_TARGET:g}x: {met(status['target_met'])}"),
    ]
    for row in loop["watch"]:
        lines.append(
            f"   watch re-run, {row['stage']:<12}{row['warm_s']:>6.2f} s   cold {row['cold_s']:.2f} s: {row['ratio']:.2f}x"
            f"   target <= {WATCH_TARGET:g}x: {met(row['target_met'])}"
        )
    return lines
