"""Run stages' tests in one pytest subprocess and read back what happened to each test.

The learner commands never keep test results in a file of their own: every `kata status`,
`check` or `grade` runs the tests. pytest writes two JSON-lines files while it runs
(`kata.recorder`: each outcome and its exception; `kata.details`: what was collected, and
each test's end), which this module polls for progress and reads when pytest is done. A
run that outlives its time limit is stopped, with its whole process group; the tests it
did not finish are reported as such, never as passed.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kata.layout import DETAILS_ENV, RECORD_ENV, TARGET_ENV, Stage
from kata.selfcheck import Outcome, final_outcomes, load_outcomes
from kata.services import service_of

POLL_SECONDS = 0.05


@dataclass
class TestResult:
    """One test after a run. `status`: passed, failed, error, skipped or not run."""

    __test__ = False  # not a pytest test class

    nodeid: str
    filename: str = ""
    line_no: int = 0
    test_code: str = ""
    given: bool = False
    integration: bool = False
    status: str = "not run"
    phase: str = ""
    exception: tuple[str, ...] = ()
    message: str = ""
    duration: float = 0.0
    output: str = ""
    where: str = ""

    @property
    def stage(self) -> str:
        parts = self.nodeid.split("::")[0].split("/")
        return parts[1] if len(parts) > 1 and parts[0] == "stages" else ""

    @property
    def name(self) -> str:
        """The test's id inside its stage: `tests/test_giphy.py::test_the_url...`."""
        return self.nodeid.split("/", 2)[-1] if self.stage else self.nodeid

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class BrokenFile:
    """A test file pytest could not even import (often: the learner's code does not import)."""

    nodeid: str
    message: str

    @property
    def stage(self) -> str:
        parts = self.nodeid.split("/")
        return parts[1] if len(parts) > 2 and parts[0] == "stages" else ""

    @property
    def name(self) -> str:
        return self.nodeid.split("/", 2)[-1] if self.stage else self.nodeid


@dataclass
class StageResult:
    stage: str
    tests: list[TestResult] = field(default_factory=list)
    broken: list[BrokenFile] = field(default_factory=list)
    not_run: list[TestResult] = field(default_factory=list)  # skipped for want of a service

    @property
    def total(self) -> int:
        return len(self.tests)

    @property
    def passed(self) -> int:
        return sum(test.passed for test in self.tests)

    @property
    def failures(self) -> list[TestResult]:
        return [test for test in self.tests if not test.passed]

    @property
    def has_tests(self) -> bool:
        return bool(self.tests or self.broken)

    @property
    def done(self) -> bool:
        return bool(self.tests) and not self.broken and self.passed == self.total


@dataclass
class TestRun:
    """A finished run: per stage results, and what went wrong with the run itself."""

    __test__ = False

    stages: list[StageResult]
    exit_code: int | None
    log: str
    seconds: float
    timed_out: bool = False
    hung: str = ""  # the test that was running when the time limit stopped the run
    problem: str = ""  # pytest itself failed (usage error, internal error, crash)

    def stage(self, name: str) -> StageResult:
        return next(result for result in self.stages if result.stage == name)

    @property
    def tests(self) -> list[TestResult]:
        return [test for result in self.stages for test in result.tests]


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
        "-p", "kata.recorder", "-p", "kata.details", "-p", "no:cacheprovider",
        "-q", "--tb=no", "--no-header", "-o", "console_output_style=classic",
        "--continue-on-collection-errors",  # one test file that does not import stops nothing else
        *extra,
    ]  # fmt: skip


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
        record, details, log = Path(tmp) / "record.jsonl", Path(tmp) / "details.jsonl", Path(tmp) / "pytest.log"
        env = {**os.environ, TARGET_ENV: target, RECORD_ENV: str(record), DETAILS_ENV: str(details)}
        env.pop("PYTEST_ADDOPTS", None)  # a learner's -x or --lf would change what a run means
        command = pytest_command([f"stages/{stage.name}" for stage in stages], pytest_args)
        with open(log, "wb") as out:
            if launcher is not None:
                process = launcher(command, root, env, out)
            else:
                process = subprocess.Popen(
                    command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
        tail, entries, timed_out = _Tail(details), [], False
        try:
            while True:
                finished = process.poll() is not None
                for line in tail.lines():
                    entry = json.loads(line)
                    entries.append(entry)
                    if progress is not None:
                        if entry["type"] == "collected":
                            progress("collected", len(entry["tests"]))
                        elif entry["type"] == "done":
                            progress("done", entry)
                if finished:
                    break
                if time_limit is not None and time.monotonic() - started > time_limit:
                    timed_out = True
                    _stop(process)
                    continue
                time.sleep(POLL_SECONDS)
        except BaseException:
            _stop(process)
            raise
        outcomes = load_outcomes(record.read_text(encoding="utf-8").splitlines()) if record.exists() else []
        log_text = log.read_text(errors="replace")
    return _assemble(stages, entries, outcomes, process.returncode, log_text, time.monotonic() - started, timed_out, time_limit)


def _tests_in_source(stages: list[Stage]) -> dict[str, TestResult]:
    """Each stage's tests as its test files' source names them (kata.grading.static_tests)."""
    from kata.grading import static_tests

    found = {}
    for stage in stages:
        for path in sorted(stage.tests_dir.glob("test_*.py")):
            filename = f"stages/{stage.name}/tests/{path.name}"
            for name, line in static_tests(path):
                found[f"{filename}::{name}"] = TestResult(f"{filename}::{name}", filename, line)
    return found


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
    results = {stage.name: StageResult(stage.name) for stage in stages}
    tests: dict[str, TestResult] = {}
    started = [entry["nodeid"] for entry in entries if entry["type"] == "start"]
    for entry in entries:
        if entry["type"] == "collected":
            for info in entry["tests"]:
                tests[info["nodeid"]] = TestResult(
                    info["nodeid"], info["filename"], info["line_no"], info["test_code"], info["given"], info["integration"]
                )
    collected = bool(tests)
    if timed_out and not collected:
        # Stopped before pytest had listed the tests: list them from the source, so that every
        # one of them is reported (as not run), never silently missing.
        tests.update(_tests_in_source(stages))
    for entry in entries:
        if entry["type"] == "done" and entry["nodeid"] in tests:
            test = tests[entry["nodeid"]]
            test.status, test.duration = entry["outcome"], entry["duration"]
            test.where, test.output = entry["where"], entry["output"]
    for nodeid, outcome in final_outcomes(outcomes).items():
        if outcome.when == "collect":
            stage = results.get(BrokenFile(nodeid, "").stage)
            if stage is not None:
                stage.broken.append(BrokenFile(nodeid, outcome.message))
            continue
        test = tests.get(nodeid)
        if test is not None and (outcome.outcome != "passed" or test.status == "not run"):
            test.phase, test.exception, test.message = outcome.when, outcome.exception, outcome.message
    finished = {entry["nodeid"] for entry in entries if entry["type"] == "done"}
    hung = next((nodeid for nodeid in reversed(started) if nodeid not in finished), "")
    for test in tests.values():
        if test.status != "not run":
            continue
        if timed_out and not collected:
            test.message = f"not run: the run was stopped after {time_limit:g} s, before pytest had even collected the tests"
        elif timed_out:
            test.message = (
                f"still running when the run was stopped after {time_limit:g} s: something in this test "
                "waits forever (a call without a timeout, a loop that never ends?)"
                if test.nodeid == hung
                else f"not run: the run was stopped after {time_limit:g} s, while {hung or 'an earlier test'} was still running"
            )
        elif test.nodeid == hung:
            test.message = f"pytest stopped while this test ran (exit code {exit_code}): the code under test crashed the process"
        else:
            test.message = f"not run: pytest stopped early (exit code {exit_code})"
    for test in tests.values():
        if test.stage in results:
            # Skipped for want of a service (no Chromium, no PostgreSQL: kata.services): not
            # the learner's to pass, so out of the count and the grade, as if never collected.
            missing = test.status == "skipped" and service_of(test.message) is not None
            (results[test.stage].not_run if missing else results[test.stage].tests).append(test)
    problem = ""
    tail = "\n".join(log.strip().splitlines()[-15:])
    if timed_out:
        problem = f"the tests did not finish within {time_limit:g} s and were stopped"
    elif exit_code not in (0, 1, 5):
        problem = f"pytest exited with code {exit_code}:\n{tail}"
    elif not tests and any(any(stage.tests_dir.glob("test_*.py")) for stage in stages):
        # Test files exist but nothing was collected: pytest could not even start (a missing
        # package, a plugin that failed). Never report that as "done".
        problem = (
            "no test ran, although the stages have test files. Is the kata's virtual "
            f"environment active (. .venv/bin/activate)? pytest said:\n{tail}"
        )
    return TestRun(list(results.values()), exit_code, log, seconds, timed_out, hung if timed_out else "", problem)
