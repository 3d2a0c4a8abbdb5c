"""Run stages' tests in one pytest subprocess and read back what happened to each test.

The learner commands never keep test results in a file of their own: every `kata status`,
`check` or `grade` runs the tests. pytest writes the record of the run while it runs
(`kata.recorder`, JSON lines: what was collected, each test's start, the outcome of each
phase and each test's end), which this module polls for progress and reads, as it goes,
into a `TestRun` (kata.reports). A run that outlives its time limit is stopped, with its
whole process group; the tests it did not finish are reported as such, never as passed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kata.layout import RECORD_ENV, TARGET_ENV, Stage
from kata.reports import BrokenFile, Outcome, StageResult, TestResult, TestRun, final_outcomes, outcome_of
from kata.services import service_of
from kata.testfiles import static_tests

POLL_SECONDS = 0.05


Progress = Callable[[str, Any], None]  # ("collected", count) then ("done", TestResult-like dict)
# (command, cwd, env, log file) -> a started process in a session of its own, Popen-like:
# pid, returncode, poll(), wait(timeout)
Launcher = Callable[[list[str], Path, dict[str, str], Any], Any]


class _Tail:
    """Read the complete lines a growing file gained since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.partial = path, 0, ""

    def lines(self) -> list[str]:
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
            self.offset = handle.tell()
        text = self.partial + chunk
        *complete, self.partial = text.split("\n")
        return [line for line in complete if line.strip()]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop pytest and everything it started: SIGINT to its process group first, so that
    pytest tears its fixtures down (they stop the servers they started in sessions of
    their own); then SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGINT, 10.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def pytest_command(paths: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    return [
        sys.executable, "-m", "pytest", *paths,
        "-p", "kata.recorder", "-p", "no:cacheprovider",
        "-q", "--tb=no", "--no-header", "-o", "console_output_style=classic",
        "--continue-on-collection-errors",  # one test file that does not import stops nothing else
        *extra,
    ]  # fmt: skip


def _start(command: list[str], root: Path, env: dict[str, str], log: Any, launcher: Launcher | None) -> Any:
    if launcher is not None:
        return launcher(command, root, env, log)
    return subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


@dataclass
class _Record:
    """The record of a run as read so far: the progress lines (collected, start, done) and
    the phases' outcomes."""

    entries: list[dict[str, Any]]
    outcomes: list[Outcome]

    def add(self, line: str, progress: Progress | None) -> None:
        entry = json.loads(line)
        outcome = outcome_of(entry)
        if outcome is not None:
            self.outcomes.append(outcome)
            return
        self.entries.append(entry)
        if progress is not None:
            if entry["type"] == "collected":
                progress("collected", len(entry["tests"]))
            elif entry["type"] == "done":
                progress("done", entry)


def _follow(process: Any, tail: _Tail, started: float, time_limit: float | None, progress: Progress | None) -> tuple[_Record, bool]:
    """Read the record while pytest runs, until it ends or is stopped at the time limit:
    the record, and whether the time limit stopped it."""
    record, timed_out = _Record([], []), False
    try:
        while True:
            finished = process.poll() is not None
            for line in tail.lines():
                record.add(line, progress)
            if finished:
                return record, timed_out
            if time_limit is not None and time.monotonic() - started > time_limit:
                timed_out = True
                _stop(process)
                continue
            time.sleep(POLL_SECONDS)
    except BaseException:
        _stop(process)
        raise


def run_tests(
    root: Path,
    stages: Iterable[Stage],
    *,
    target: str = "stages",
    pytest_args: Sequence[str] = (),
    time_limit: float | None = None,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
) -> TestRun:
    """Run the stages' tests against `target` in one pytest process under `root`
    (a fresh interpreter, or what `launcher` starts: kata.warm forks a warm one)."""
    stages = list(stages)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kata-run-") as tmp:
        record_file, log = Path(tmp) / "record.jsonl", Path(tmp) / "pytest.log"
        env = {**os.environ, TARGET_ENV: target, RECORD_ENV: str(record_file)}
        env.pop("PYTEST_ADDOPTS", None)  # a learner's -x or --lf would change what a run means
        command = pytest_command([f"stages/{stage.name}" for stage in stages], pytest_args)
        with open(log, "wb") as out:
            process = _start(command, root, env, out, launcher)
        record, timed_out = _follow(process, _Tail(record_file), started, time_limit, progress)
        log_text = log.read_text(errors="replace")
    return _assemble(
        stages, record.entries, record.outcomes, process.returncode, log_text, time.monotonic() - started, timed_out, time_limit
    )


def _tests_in_source(stages: list[Stage]) -> dict[str, TestResult]:
    """Each stage's tests as its test files' source names them (kata.testfiles.static_tests)."""
    found = {}
    for stage in stages:
        for path in sorted(stage.tests_dir.glob("test_*.py")):
            filename = f"stages/{stage.name}/tests/{path.name}"
            for name, line in static_tests(path):
                found[f"{filename}::{name}"] = TestResult(f"{filename}::{name}", filename, line)
    return found


def _collected_tests(entries: list[dict[str, Any]]) -> dict[str, TestResult]:
    """The tests pytest collected, by node id, none of them run yet."""
    tests: dict[str, TestResult] = {}
    for entry in entries:
        if entry["type"] == "collected":
            for info in entry["tests"]:
                tests[info["nodeid"]] = TestResult(
                    info["nodeid"], info["filename"], info["line_no"], info["test_code"], info["given"], info["integration"]
                )
    return tests


def _record_ends(tests: dict[str, TestResult], entries: list[dict[str, Any]]) -> None:
    """How each test that ended ended: its status, time, output and place in the learner's code."""
    for entry in entries:
        if entry["type"] == "done" and entry["nodeid"] in tests:
            test = tests[entry["nodeid"]]
            test.status, test.duration = entry["outcome"], entry["duration"]
            test.where, test.output = entry["where"], entry["output"]


def _record_outcomes(tests: dict[str, TestResult], results: dict[str, StageResult], outcomes: list[Outcome]) -> None:
    """Why tests did not pass (the phase, the exception, its message), and the test files
    that could not be collected, as broken files of their stage."""
    for nodeid, outcome in final_outcomes(outcomes).items():
        if outcome.when == "collect":
            stage = results.get(BrokenFile(nodeid, "").stage)
            if stage is not None:
                stage.broken.append(BrokenFile(nodeid, outcome.message))
            continue
        test = tests.get(nodeid)
        if test is not None and (outcome.outcome != "passed" or test.status == "not run"):
            test.phase, test.exception, test.message = outcome.when, outcome.exception, outcome.message


def _hung_test(entries: list[dict[str, Any]]) -> str:
    """The last test that started and never ended, or ''."""
    started = [entry["nodeid"] for entry in entries if entry["type"] == "start"]
    finished = {entry["nodeid"] for entry in entries if entry["type"] == "done"}
    return next((nodeid for nodeid in reversed(started) if nodeid not in finished), "")


def _not_run_message(test: TestResult, hung: str, collected: bool, exit_code: int | None, timed_out: bool, time_limit: float | None) -> str:
    """Why a test that never ended did not: a time limit (it hung, or another did), or pytest stopping."""
    if timed_out and not collected:
        return f"not run: the run was stopped after {time_limit:g} s, before pytest had even collected the tests"
    if timed_out:
        return (
            f"still running when the run was stopped after {time_limit:g} s: something in this test "
            "waits forever (a call without a timeout, a loop that never ends?)"
            if test.nodeid == hung
            else f"not run: the run was stopped after {time_limit:g} s, while {hung or 'an earlier test'} was still running"
        )
    if test.nodeid == hung:
        return f"pytest stopped while this test ran (exit code {exit_code}): the code under test crashed the process"
    return f"not run: pytest stopped early (exit code {exit_code})"


def _run_problem(stages: list[Stage], tests: dict[str, TestResult], exit_code: int | None, log: str, timed_out: bool, time_limit: float | None) -> str:
    """What went wrong with the run itself, or ''."""
    tail = "\n".join(log.strip().splitlines()[-15:])
    if timed_out:
        return f"the tests did not finish within {time_limit:g} s and were stopped"
    if exit_code not in (0, 1, 5):
        return f"pytest exited with code {exit_code}:\n{tail}"
    if not tests and any(any(stage.tests_dir.glob("test_*.py")) for stage in stages):
        # Test files exist but nothing was collected: pytest could not even start (a missing
        # package, a plugin that failed). Never report that as "done".
        return (
            "no test ran, although the stages have test files. Is the kata's virtual "
            f"environment active (. .venv/bin/activate)? pytest said:\n{tail}"
        )
    return ""


def _assemble(
    stages: list[Stage],
    entries: list[dict[str, Any]],
    outcomes: list[Outcome],
    exit_code: int | None,
    log: str,
    seconds: float,
    timed_out: bool,
    time_limit: float | None,
) -> TestRun:
    """The TestRun a run's record makes: its progress lines (`entries`) and phases' `outcomes`."""
    results = {stage.name: StageResult(stage.name) for stage in stages}
    tests = _collected_tests(entries)
    collected = bool(tests)
    if timed_out and not collected:
        # Stopped before pytest had listed the tests: list them from the source, so that every
        # one of them is reported (as not run), never silently missing.
        tests.update(_tests_in_source(stages))
    _record_ends(tests, entries)
    _record_outcomes(tests, results, outcomes)
    hung = _hung_test(entries)
    for test in tests.values():
        if test.status == "not run":
            test.message = _not_run_message(test, hung, collected, exit_code, timed_out, time_limit)
        if test.stage in results:
            # Skipped for want of a service (no Chromium, no PostgreSQL: kata.services): not
            # the learner's to pass, so out of the count and the grade, as if never collected.
            missing = test.status == "skipped" and service_of(test.message) is not None
            (results[test.stage].not_run if missing else results[test.stage].tests).append(test)
    problem = _run_problem(stages, tests, exit_code, log, timed_out, time_limit)
    return TestRun(list(results.values()), exit_code, log, seconds, timed_out, hung if timed_out else "", problem)
