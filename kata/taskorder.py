"""Tasks in order: each task's tests pass once it and the tasks before it are done, none after.

A learner works through a stage's tasks in the README's order. For each task N of a stage,
the source (`source/workit`, kata/source.py) makes the skeleton with the regions of tasks 1 to
N solved and the later ones stubbed; the stage's tests run against it as a learner's code, and
every test that hints.toml gives to task N must pass. A task whose tests need a later task's
code leaves a learner who works in order stuck.

`python -m kata taskorder [STAGE...]` runs it (`make test` does, as `make taskorder`); it exits 1
on any such task.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kata.hints import load_hints
from kata.layout import PACKAGE, Stage, all_stages
from kata.runner import run_tests
from kata.source import Task, tasks, write_partial

COPIED = ("kata", "conftest.py", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".kata", "golden")
TIME_LIMIT = 300.0  # seconds for one stage's unit tests


@dataclass(frozen=True)
class TaskResult:
    stage: str
    task: int
    failing: tuple[str, ...]  # the task's own tests that did not pass, with their first line
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failing


def _copy(root: Path, stage: str, destination: Path) -> None:
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
        elif source.is_file():
            shutil.copy2(source, destination / name)
    shutil.copytree(root / "stages" / stage, destination / "stages" / stage, ignore=shutil.ignore_patterns("__pycache__", PACKAGE))
    shutil.copytree(root / "source", destination / "source", ignore=IGNORED)


def check_task(root: Path, stage: Stage, number: int, done: list[Task]) -> TaskResult:
    """Stage `stage` with `done` solved: do the tests of task `number` pass?"""
    hints = [hint for hint in load_hints(stage) if hint.task == number]
    with tempfile.TemporaryDirectory(prefix=f"kata-task-{stage.name}-{number}-") as tmp:
        copy = Path(tmp)
        _copy(root, stage.name, copy)
        write_partial(root, stage.name, done, copy / "stages")
        run = run_tests(copy, [Stage(copy, stage.name)], target="stages", time_limit=TIME_LIMIT)
    result = run.stage(stage.name)
    not_passing = [(test.name, test.message) for test in result.failures]
    not_passing += [(broken.nodeid.split("/", 2)[-1], broken.message) for broken in result.broken]
    failing = tuple(
        f"{name}: {(message.strip().splitlines() or ['failed'])[0]}"[:200]
        for name, message in not_passing
        if any(hint.matches(name) for hint in hints)
    )
    if run.problem and not failing:
        failing = (f"the run failed: {run.problem.splitlines()[0]}",)
    return TaskResult(stage.name, number, failing, run.seconds)


def plan(root: Path, names: list[str] | None = None) -> list[tuple[Stage, int, list[Task]]]:
    """Every (stage, task, tasks done) to check: each task of hints.toml with its predecessors."""
    marked = tasks(root)
    jobs = []
    for stage in all_stages(root):
        if (names and stage.name not in names) or not stage.tests_dir.is_dir():
            continue
        regions = marked.get(stage.name[:2], [])
        numbers = sorted({hint.task for hint in load_hints(stage)})
        for number in numbers:
            jobs.append((stage, number, [task for task in regions if task.number <= number]))
    return jobs


def run_taskorder(
    root: Path, names: list[str] | None = None, workers: int = 2, progress: Callable[[TaskResult], None] | None = None
) -> list[TaskResult]:
    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(lambda job: check_task(root, *job), plan(root, names)):
            results.append(result)
            if progress is not None:
                progress(result)
    return results


def format_result(result: TaskResult) -> str:
    head = f"  {result.stage} task {result.task}: {'ok' if result.ok else 'STUCK'} ({result.seconds:.0f} s)"
    return "\n".join([head, *(f"      {line}" for line in result.failing)])
