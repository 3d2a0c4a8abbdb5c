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

import ast
import difflib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kata.layout import PACKAGE, RECORD_ENV, TARGET_ENV, all_stages
from kata.services import NOT_RUN_ENV, REQUIRE_ENV, NotRun, required, service_of

IGNORED_PARTS = {"__pycache__", ".pytest_cache"}


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


def load_outcomes(lines: Iterable[str]) -> list[Outcome]:
    outcomes = []
    for line in lines:
        if line.strip():
            raw = json.loads(line)
            raw["exception"] = tuple(raw.get("exception") or ())
            raw["cause"] = tuple(raw.get("cause") or ())
            outcomes.append(Outcome(**raw))
    return outcomes


def final_outcomes(outcomes: Iterable[Outcome]) -> dict[str, Outcome]:
    """One outcome per test: its first failing phase, else its call phase."""
    final: dict[str, Outcome] = {}
    for outcome in outcomes:
        current = final.get(outcome.nodeid)
        if current is None or (current.outcome == "passed" and outcome.outcome != "passed"):
            final[outcome.nodeid] = outcome
    return final


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


def _package_files(directory: Path) -> set[str]:
    package = directory / PACKAGE
    if not package.is_dir():
        return set()
    return {
        str(p.relative_to(package))
        for p in package.rglob("*")
        if p.is_file() and not IGNORED_PARTS & set(p.parts) and p.suffix != ".pyc"
    }


def mirror_problems(root: Path) -> list[str]:
    """stages/NN_x/workit and solutions/NN_x/workit must hold the same files, both ways."""
    problems = []
    stage_names = {d.name for d in (root / "stages").iterdir() if d.is_dir()}
    solution_names = {d.name for d in (root / "solutions").iterdir() if d.is_dir()}
    for name in sorted(solution_names - stage_names):
        problems.append(f"solutions/{name} has no stage stages/{name}")
    for name in sorted(stage_names & solution_names):
        skeleton = _package_files(root / "stages" / name)
        solution = _package_files(root / "solutions" / name)
        for path in sorted(skeleton - solution):
            problems.append(f"stages/{name}/{PACKAGE}/{path} has no counterpart in solutions/{name}")
        for path in sorted(solution - skeleton):
            problems.append(f"solutions/{name}/{PACKAGE}/{path} has no counterpart in stages/{name}")
    for stage in all_stages(root):
        if stage.tests_dir.is_dir() and stage.name not in solution_names:
            problems.append(f"stages/{stage.name} has tests but no solutions/{stage.name}")
    return problems


CONTEXT_LINES = 2


def _statement_spans(source: str) -> dict[int, tuple[int, int]]:
    """For each line of Python source, the lines of the innermost statement holding it."""
    spans: dict[int, tuple[int, int]] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return spans
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            for line in range(node.lineno, node.end_lineno + 1):
                known = spans.get(line)
                if known is None or known[1] - known[0] > node.end_lineno - node.lineno:
                    spans[line] = (node.lineno, node.end_lineno)
    return spans


def _unmarked_changes(previous: list[str], skeleton: list[str], stage: str, python: bool) -> list[tuple[int, int]]:
    """Skeleton line ranges (1-based) that differ from `previous` with no mark of `stage` near them.

    A mark is a line naming the stage (`TODO(03_worker)`, `NotImplementedError("Step 03_worker
    ...")`) within CONTEXT_LINES of the changed line, or of the Python statement holding it, so a
    TODO docstring or a multi-line raise covers itself, while one TODO cannot cover a whole
    rewritten function.
    """
    marked = [stage in line for line in skeleton]
    spans = _statement_spans("\n".join(skeleton)) if python else {}
    unmarked: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(a=previous, b=skeleton, autojunk=False)
    for tag, _, _, start, end in matcher.get_opcodes():
        if tag == "equal":
            continue
        for index in range(start, end):
            if not skeleton[index].strip():
                continue
            first, last = spans.get(index + 1, (index + 1, index + 1))
            window = range(max(0, first - 1 - CONTEXT_LINES), min(len(skeleton), last + CONTEXT_LINES))
            if any(marked[i] for i in window):
                continue
            if unmarked and unmarked[-1][1] == index:
                unmarked[-1] = (unmarked[-1][0], index + 1)
            else:
                unmarked.append((index + 1, index + 1))
    return unmarked


def continuity_problems(root: Path) -> list[str]:
    """stages/N+1/workit must be solutions/N/workit plus TODOs, nothing else."""
    problems = []
    names = [stage.name for stage in all_stages(root)]
    for before, after in itertools.pairwise(names):
        previous, skeleton = root / "solutions" / before, root / "stages" / after
        if not (previous / PACKAGE).is_dir() or not (skeleton / PACKAGE).is_dir():
            continue
        old_files, new_files = _package_files(previous), _package_files(skeleton)
        for rel in sorted(old_files - new_files):
            problems.append(f"stages/{after}/{PACKAGE}/{rel} is missing: solutions/{before} has it")
        for rel in sorted(new_files - old_files):
            text = (skeleton / PACKAGE / rel).read_text(errors="replace")
            if rel.endswith(".py") and after not in text:
                problems.append(f"stages/{after}/{PACKAGE}/{rel} is new in this stage but has no TODO({after})")
        for rel in sorted(old_files & new_files):
            old = (previous / PACKAGE / rel).read_text(errors="replace").splitlines()
            new = (skeleton / PACKAGE / rel).read_text(errors="replace").splitlines()
            for first, last in _unmarked_changes(old, new, after, rel.endswith(".py")):
                lines = f"{first}" if first == last else f"{first}-{last}"
                problems.append(
                    f"stages/{after}/{PACKAGE}/{rel}:{lines} differs from solutions/{before} with no "
                    f"TODO({after}) nearby: a skeleton changes the previous solution only where the "
                    "learner has work to do"
                )
    return problems


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
    problems = mirror_problems(root) + continuity_problems(root)
    with tempfile.TemporaryDirectory(prefix="kata-selfcheck-") as tmp:
        runs = [start_run(root, target, Path(tmp), pytest_args or []) for target in ("solutions", "stages")]
        (solution, solution_errors), (skeleton, skeleton_errors) = (finish_run(r) for r in runs)
    problems += solution_errors + skeleton_errors
    for outcome in solution + skeleton:
        if outcome.when == "collect" and not outcome.stage:
            problems.append(f"collection error outside a stage: {outcome.nodeid}: {_first_line(outcome.message)}")
    verdicts = [judge(stage.name, solution, skeleton) for stage in all_stages(root)]
    return verdicts, problems
