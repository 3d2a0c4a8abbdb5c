"""The record of a run: how each test ended, as pytest reported it and as the kata reads it.

`kata.recorder`, the pytest plugin every run loads, writes one JSON line per event. The
self-check reads its per-phase lines as `Outcome`s (`load_outcomes`, `final_outcomes`); the
learner's runner (kata.runner) turns the whole stream into a `TestRun`: per stage, a
`TestResult` per test and a `BrokenFile` per test file that could not be imported. The
grade, the learner's commands and the cache read those.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    nodeid: str
    when: str
    outcome: str
    given: bool = False
    exception: tuple[str, ...] = ()
    message: str = ""
    path: str = ""
    cause: tuple[str, ...] = ()
    cause_message: str = ""
    reference: bool = False

    @property
    def stage(self) -> str:
        parts = self.nodeid.split("::")[0].split("/")
        return parts[1] if len(parts) > 1 and parts[0] == "stages" else ""

    @property
    def test(self) -> str:
        return self.nodeid.split("/", 2)[-1]


def outcome_of(entry: dict[str, Any]) -> Outcome | None:
    """The Outcome a line of the record stands for, None for a line of another type."""
    raw = dict(entry)
    if raw.pop("type", "outcome") != "outcome":
        return None
    raw["exception"] = tuple(raw.get("exception") or ())
    raw["cause"] = tuple(raw.get("cause") or ())
    return Outcome(**raw)


def load_outcomes(lines: Iterable[str]) -> list[Outcome]:
    """The `outcome` lines of a record (kata.recorder), in order."""
    outcomes = []
    for line in lines:
        if line.strip() and (outcome := outcome_of(json.loads(line))) is not None:
            outcomes.append(outcome)
    return outcomes


def final_outcomes(outcomes: Iterable[Outcome]) -> dict[str, Outcome]:
    """One outcome per test: its first failing phase, else its call phase."""
    final: dict[str, Outcome] = {}
    for outcome in outcomes:
        current = final.get(outcome.nodeid)
        if current is None or (current.outcome == "passed" and outcome.outcome != "passed"):
            final[outcome.nodeid] = outcome
    return final


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
