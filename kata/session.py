"""One `kata` command's view of the kata: where it is, its stages, and runs of their tests.

The root is found on first use (kata.project), so `kata --help` reads no directory. A run
shows pytest-style progress dots and, for the learner's commands, reuses each stage's kept
result when nothing it depends on changed (kata.cache).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import click

from kata import cache
from kata.layout import Stage
from kata.project import KataError, find_root, is_kata_root, stages_of, todo_files
from kata.reports import TestRun
from kata.runner import run_tests

Echo = Callable[..., None]


class ProgressDots:
    """pytest-style progress while the run goes: `.` passed, `F` failed, `E` error, `s` skipped."""

    MARKS: ClassVar[dict[str, tuple[str, str]]] = {"passed": (".", "green"), "failed": ("F", "red"), "error": ("E", "red"), "skipped": ("s", "yellow")}
    WIDTH = 72

    def __init__(self, echo: Echo, label: str) -> None:
        self.echo, self.label, self.count, self.total = echo, label, 0, 0

    def __call__(self, kind: str, value: Any) -> None:
        if kind == "collected":
            self.total = value
            self.echo(f"{self.label}: {value} test{'s' if value != 1 else ''}")
        elif kind == "done":
            mark, colour = self.MARKS.get(value["outcome"], ("?", "yellow"))
            self.echo(click.style(mark, fg=colour), nl=False)
            self.count += 1
            if self.count % self.WIDTH == 0 or self.count == self.total:
                self.echo(f" {self.count}/{self.total}" if self.count == self.total else "")

    def finish(self) -> None:
        if self.total == 0:
            self.echo(f"{self.label}: no tests ran")
        elif self.count not in (0, self.total) and self.count % self.WIDTH:
            self.echo(f" {self.count}/{self.total}")


class Session:
    """Per-invocation state: where the kata is (found lazily), how to print, and, while
    watching, kata.warm's launcher. A problem the learner can fix raises KataError."""

    def __init__(self, root_option: Path | None = None, echo: Echo = click.echo) -> None:
        self.root_option = root_option
        self.echo = echo
        self.launcher: Any = None  # kata.warm's, while watching
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = find_root(self.root_option) if self.root_option is None else self._given_root()
        return self._root

    def _given_root(self) -> Path:
        assert self.root_option is not None
        root = self.root_option.resolve()
        if not is_kata_root(root):
            raise KataError(f"--root {self.root_option}: no stages/ with solutions/ or conftest.py there")
        return root

    @property
    def stages(self) -> list[Stage]:
        return stages_of(self.root)

    def has_solutions(self) -> bool:
        return (self.root / "solutions").is_dir()

    def target(self, solutions: bool) -> str:
        if solutions and not self.has_solutions():
            raise KataError("This copy of the kata has no solutions/ (a student template): --solutions has nothing to run.")
        return "solutions" if solutions else "stages"

    def writing_stage(self) -> Stage | None:
        """The first stage with a step left to write (a `raise NotImplementedError("Step ...")`)."""
        return next((s for s in self.stages if any(f.steps for f in todo_files(self.root, s))), None)

    def last_written_stage(self) -> Stage:
        """The last stage whose steps are all written (before the first with a step left), else the first."""
        stages = self.stages
        writing = next((i for i, s in enumerate(stages) if any(f.steps for f in todo_files(self.root, s))), len(stages))
        return stages[max(writing - 1, 0)]

    def run(self, stages: list[Stage], label: str, cache_results: bool = False, refresh: bool = False, **options: Any) -> TestRun:
        """Run the stages' tests with progress dots. With `cache_results`, a stage whose inputs
        have not changed since its last clean run is not run again (kata.cache); `refresh`
        runs every stage all the same, and keeps the new results."""
        if self.launcher is not None:
            options.setdefault("launcher", self.launcher)

        def dotted(chosen: list[Stage]) -> TestRun:
            names = "" if len(chosen) == len(stages) else f" ({', '.join(s.name for s in chosen)})"
            dots = ProgressDots(self.echo, label + names)
            run = run_tests(self.root, chosen, progress=dots, **options)
            dots.finish()
            return run

        if not cache_results:
            return dotted(stages)
        target, args = options.get("target", "stages"), tuple(options.get("pytest_args", ()))
        return cache.cached_run(self.root, stages, target, args, dotted, self.echo, refresh)
