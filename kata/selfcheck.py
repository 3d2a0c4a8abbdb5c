"""The maintainers' self-check: every solution passes, every skeleton fails for the right reason.

It runs the whole test tree twice, in parallel subprocesses: once against solutions/ and once
against the untouched stages/, with `kata.recorder` writing each outcome. Then it judges:

- on the solution, every test passes;
- on the skeleton, tests marked `given` pass and every other test fails in its body, by an
  assertion or by a NotImplementedError whose message names the stage;
- stages/NN/workit and solutions/NN/workit hold the same files (both directions);
- stage N+1's skeleton is stage N's solution plus TODOs: every change sits next to a TODO.
- every stage has hints (stages/NN_x/hints.toml), none empty, each tied to tests that exist
  (`hints_problems`, checked by `kata selfcheck`).

A test skipped for want of a service that cannot be stood in for (Chromium, PostgreSQL: a
reason `kata: missing service NAME`, see kata.services) is neither a pass nor a problem: it is
listed as not run, in the last lines. Any other skip is a problem, and under
KATA_REQUIRE_SERVICES=1 (CI) so is that one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kata.layout import RECORD_ENV, TARGET_ENV, all_stages
from kata.reports import Outcome, final_outcomes, load_outcomes
from kata.services import NOT_RUN_ENV, REQUIRE_ENV, NotRun, required, service_of
from kata.trees import continuity_problems, mirror_problems


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:160] if text.strip() else ""


def missing_service(outcome: Outcome) -> str | None:
    """The service a test was skipped for want of (kata.services), or None."""
    return service_of(outcome.message) if outcome.outcome == "skipped" else None


def _skipped_problem(outcome: Outcome, where: str) -> str:
    if missing_service(outcome) is not None:
        return f"is skipped on the {where} though {REQUIRE_ENV}=1: {_first_line(outcome.message)}"
    return f"is skipped on the {where}: {_first_line(outcome.message)}"


def skeleton_problem(outcome: Outcome, stage: str) -> str | None:
    """Why a skeleton outcome is not the intended one, or None when it is (a test skipped for
    want of a service is not run, not a problem; see missing_service)."""
    if missing_service(outcome) is not None and not required():
        return None
    if outcome.when == "collect":
        return f"cannot be collected on the skeleton: {_first_line(outcome.message)}"
    if outcome.given:
        if outcome.outcome == "passed":
            return None
        return f"is marked `given` but does not pass on the skeleton ({outcome.when}): {_first_line(outcome.message)}"
    if outcome.outcome == "passed":
        return "passes on the untouched skeleton: it checks nothing the learner builds (mark it `given` if that is the point)"
    if outcome.outcome == "skipped":
        return _skipped_problem(outcome, "skeleton")
    if outcome.when != "call":
        return f"errors in {outcome.when} instead of failing in the test body: {_first_line(outcome.message)}"
    if "NotImplementedError" in outcome.exception:
        if stage in outcome.message:
            return None
        return f"raises a NotImplementedError that does not name the step ({stage!r}): {_first_line(outcome.message)}"
    if "AssertionError" in outcome.exception:
        return _wrapped_problem(outcome, stage)
    kind = outcome.exception[0] if outcome.exception else "an unknown error"
    return f"fails with {kind}, not an assertion or the step's NotImplementedError: {_first_line(outcome.message)}"


def _wrapped_problem(outcome: Outcome, stage: str) -> str | None:
    """An assertion raised from another error is only as intended as that error."""
    if not outcome.cause or "AssertionError" in outcome.cause:
        return None
    if "NotImplementedError" in outcome.cause and stage in outcome.cause_message:
        return None
    return (
        f"fails by an AssertionError raised from {outcome.cause[0]}, not from the step's "
        f"NotImplementedError: {_first_line(outcome.cause_message)}"
    )


def solution_problem(outcome: Outcome) -> str | None:
    if outcome.outcome == "passed" and outcome.when == "call":
        return None
    if missing_service(outcome) is not None:
        return None if not required() else _skipped_problem(outcome, "solution")
    return f"{outcome.outcome} on the solution ({outcome.when}): {_first_line(outcome.message)}"


@dataclass
class StageVerdict:
    stage: str
    tests: int = 0
    given: int = 0
    reference: int = 0
    solution_passing: int = 0
    skeleton_failing: int = 0
    problems: list[str] = field(default_factory=list)
    not_run: list[NotRun] = field(default_factory=list)  # skipped for want of a service

    @property
    def ok(self) -> bool:
        return not self.problems


def judge(stage: str, solution: Iterable[Outcome], skeleton: Iterable[Outcome]) -> StageVerdict:
    on_solution = {k: v for k, v in final_outcomes(solution).items() if v.stage == stage}
    on_skeleton = {k: v for k, v in final_outcomes(skeleton).items() if v.stage == stage}
    verdict = StageVerdict(stage, tests=len(on_solution.keys() | on_skeleton.keys()))
    for nodeid in sorted(on_solution.keys() | on_skeleton.keys()):
        name = nodeid.split("/", 2)[-1]
        solved = on_solution.get(nodeid)
        untouched = on_skeleton.get(nodeid)
        for outcome in (solved, untouched):
            service = missing_service(outcome) if outcome is not None else None
            if service is not None and NotRun(nodeid, service) not in verdict.not_run:
                verdict.not_run.append(NotRun(nodeid, service))
        if solved is None:
            verdict.problems.append(f"{name}: did not run against the solution")
        elif (problem := solution_problem(solved)) is not None:
            verdict.problems.append(f"{name}: {problem}")
        elif missing_service(solved) is None:
            verdict.solution_passing += 1
        if solved is not None and solved.reference:
            verdict.reference += 1
            if untouched is not None:
                verdict.problems.append(f"{name}: is marked `reference` but ran against the skeleton")
            continue
        if untouched is None:
            verdict.problems.append(f"{name}: did not run against the skeleton")
            continue
        verdict.given += untouched.given
        if (problem := skeleton_problem(untouched, stage)) is not None:
            verdict.problems.append(f"{name}: {problem}")
        elif not untouched.given and missing_service(untouched) is None:
            verdict.skeleton_failing += 1
    return verdict


def hints_problems(root: Path) -> list[str]:
    """Every stage with tests has hints: none empty, each naming tests the stage has."""
    from kata.hints import hint_problems

    return [problem for stage in all_stages(root) if stage.tests_dir.is_dir() for problem in hint_problems(stage)]


@dataclass
class Run:
    target: str
    record: Path
    log: Path
    process: subprocess.Popen[bytes]


def start_run(root: Path, target: str, workdir: Path, pytest_args: list[str]) -> Run:
    record, log = workdir / f"{target}.jsonl", workdir / f"{target}.log"
    env = {**os.environ, TARGET_ENV: target, RECORD_ENV: str(record)}
    env.pop(NOT_RUN_ENV, None)  # the self-check lists what its runs left out, once
    command = [sys.executable, "-m", "pytest", "stages", "-p", "kata.recorder", "-p", "no:cacheprovider", "-q", *pytest_args]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Run(target, record, log, process)


def finish_run(run: Run) -> tuple[list[Outcome], list[str]]:
    code = run.process.wait()
    problems = []
    if code not in (0, 1, 5):
        tail = run.log.read_text(errors="replace").strip().splitlines()[-15:]
        problems.append(f"pytest against {run.target}/ exited with {code}:\n    " + "\n    ".join(tail))
    lines = run.record.read_text().splitlines() if run.record.exists() else []
    return load_outcomes(lines), problems


def format_table(verdicts: list[StageVerdict]) -> str:
    header = f"{'stage':<14}{'tests':>6}  {'solution passes':<17}{'skeleton fails as intended':<36}verdict"
    rows = [header, "-" * len(header)]
    for v in verdicts:
        if v.tests == 0:
            rows.append(f"{v.stage:<14}{0:>6}  {'-':<17}{'-':<36}no tests yet")
            continue
        asked = v.tests - v.given - v.reference
        given = "".join(f" (+{n} {kind})" for n, kind in ((v.given, "given"), (v.reference, "reference")) if n)
        verdict = "ok" if v.ok else "PROBLEMS"
        if v.not_run:
            verdict += f" ({len(v.not_run)} not run: no {', '.join(sorted({n.service for n in v.not_run}))})"
        rows.append(
            f"{v.stage:<14}{v.tests:>6}  {f'{v.solution_passing}/{v.tests}':<17}"
            f"{f'{v.skeleton_failing}/{asked}{given}':<36}{verdict}"
        )
    return "\n".join(rows)


def run_selfcheck(root: Path, pytest_args: list[str] | None = None) -> tuple[list[StageVerdict], list[str]]:
    """Run both targets and judge every stage; returns verdicts and tree-wide problems."""
    from kata.source import agreement_problems, drift_problems

    problems = drift_problems(root) + agreement_problems(root) + mirror_problems(root) + continuity_problems(root)
    with tempfile.TemporaryDirectory(prefix="kata-selfcheck-") as tmp:
        runs = [start_run(root, target, Path(tmp), pytest_args or []) for target in ("solutions", "stages")]
        (solution, solution_errors), (skeleton, skeleton_errors) = (finish_run(r) for r in runs)
    problems += solution_errors + skeleton_errors
    for outcome in solution + skeleton:
        if outcome.when == "collect" and not outcome.stage:
            problems.append(f"collection error outside a stage: {outcome.nodeid}: {_first_line(outcome.message)}")
    verdicts = [judge(stage.name, solution, skeleton) for stage in all_stages(root)]
    return verdicts, problems
