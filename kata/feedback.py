"""Feedback: what `kata status`, `kata check` and `kata hint` say, built from a finished test run."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import click

from kata.explain import Explanation, explain, explain_broken, trim
from kata.hints import Hint, HintsError, SeenHints, hint_for_failure, load_hints, next_hint, order_key
from kata.layout import Stage
from kata.project import short_name, todo_files
from kata.quiz import QuizProgress, progress_text
from kata.reports import StageResult, TestResult, TestRun

OTHER_FAILURES = 5
Echo = Callable[..., None]


def good(text: str) -> str:
    return click.style(text, fg="green")


def bad(text: str) -> str:
    return click.style(text, fg="red")


def warn(text: str) -> str:
    return click.style(text, fg="yellow")


def strong(text: str) -> str:
    return click.style(text, bold=True)


def command(text: str) -> str:
    return click.style(text, fg="cyan")


def indent(text: str, prefix: str = "  ") -> str:
    return textwrap.indent(text, prefix, lambda line: True)


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


# --- hints and failures --------------------------------------------------------------------


def stage_hints(stage: Stage) -> list[Hint]:
    try:
        return load_hints(stage)
    except HintsError:
        return []


@dataclass
class Failures:
    """A stage's failures, split: the machine's, files that do not import, then the learner's
    tests in the order the hints walk through them."""

    environment: list[tuple[TestResult, Explanation]] = field(default_factory=list)
    broken: list[tuple[str, Explanation]] = field(default_factory=list)
    tests: list[tuple[TestResult, Explanation]] = field(default_factory=list)


def sort_failures(result: StageResult, hints: list[Hint]) -> Failures:
    failures = Failures()
    for broken in result.broken:
        failures.broken.append((broken.name, explain_broken(broken.message)))
    position = {test.nodeid: index for index, test in enumerate(result.tests)}
    for test in sorted(result.failures, key=lambda t: (order_key(hints, t.name), position[t.nodeid])):
        explanation = explain(test)
        (failures.environment if explanation.environment else failures.tests).append((test, explanation))
    failures.tests.sort(key=lambda pair: pair[1].kind != "import")  # code that does not import: first
    return failures


def environment_lines(problems: list[tuple[TestResult, Explanation]]) -> list[str]:
    """One paragraph per distinct environment problem, saying it is not the learner's code."""
    lines: list[str] = []
    seen: dict[str, int] = {}
    for _, explanation in problems:
        seen[explanation.headline] = seen.get(explanation.headline, 0) + 1
    fixes = {e.headline: e.fix for _, e in problems}
    for headline, count in seen.items():
        tests = f"{count} test{'s' if count != 1 else ''}"
        lines.append(warn(f"Environment problem, not your code ({tests}): ") + headline)
        if fixes[headline]:
            lines.append(indent("Fix: " + fixes[headline]))
    return lines


# --- kata status ---------------------------------------------------------------------------


def first_unfinished(run: TestRun) -> StageResult | None:
    return next((result for result in run.stages if result.has_tests and not result.done), None)


def status_lines(root: Path, stages: list[Stage], run: TestRun, target: str) -> list[str]:
    where = "your code in stages/" if target == "stages" else "the reference code in solutions/"
    total = sum(result.total for result in run.stages)
    lines = [strong(f"Work-It Kata: {where}") + f" ({len(stages)} stages, {total} tests, {run.seconds:.1f} s)", ""]
    if run.problem:
        lines += [bad("The tests did not run to the end: ") + run.problem, ""]
    following = first_unfinished(run)
    progress = QuizProgress(root)
    quizzes = {stage.name: progress_text(stage, progress) for stage in stages}
    lines.append(f"  {'stage':<14}{'passing':>8}{'quiz':>7}   status")
    for result in run.stages:
        if result.broken:
            state = bad(f"broken: {len(result.broken)} test file(s) do not import")
        elif not result.has_tests:
            state = "no tests yet"
        elif result.done:
            state = good("done")
        else:
            state = warn("to do")
        if following is not None and result.stage == following.stage:
            state += strong("   <- next")
        lines.append(f"  {result.stage:<14}{f'{result.passed}/{result.total}':>8}{quizzes.get(result.stage, '-'):>7}   {state}")
    lines.append("")
    environment = [pair for result in run.stages for pair in sort_failures(result, []).environment]
    if environment:
        lines += [*environment_lines(environment), ""]
    if run.problem:
        lines.append(bad("Fix the problem above first: until the tests run, nothing can be counted as done."))
        return lines
    if following is None:
        lines.append(good(f"All {len(stages)} stages done: every test passes."))
        last = short_name(stages[-1])
        lines.append(f"  see it for real: {command(f'kata check {last} --integration')} (real Redis, worker and inbox)")
        lines.append(f"  your grade:      {command('kata grade')}")
        return lines
    stage = next(s for s in stages if s.name == following.stage)
    number = short_name(stage)
    to_go = following.total - following.passed
    broken = f"; {len(following.broken)} test file(s) do not even import" if following.broken else ""
    lines.append(strong(f"Next: stage {stage.name}") + f", {to_go} test{'s' if to_go != 1 else ''} to go{broken}.")
    lines.append(f"  read   stages/{stage.name}/README.md")
    lines.append(f"  run    {command(f'kata check {number}')}   (or: pytest stages/{stage.name})")
    todos = todo_files(root, stage)
    width = max((len(todo.path) for todo in todos), default=0)
    for index, todo in enumerate(todos):
        label = "write " if index == 0 else "      "
        lines.append(f"  {label} {todo.path:<{width}}   {todo.describe()}")
    lines.append(f"  stuck? {command(f'kata hint {number}')}")
    if quizzes.get(stage.name, "-") != "-":
        lines.append(f"  quiz   {command(f'kata quiz {number}')}   (check your understanding: {quizzes[stage.name]} answered)")
    later = [(s, todo_files(root, s)) for s in stages if s.name != stage.name]
    later_text = [
        f"{s.name} ({len(files)} file{'s' if len(files) != 1 else ''})"
        for s, files in later
        if files and not run.stage(s.name).done
    ]
    if later_text:
        lines += ["", "TODOs left in other stages: " + ", ".join(later_text)]
    return lines


# --- kata check ----------------------------------------------------------------------------


def check_lines(
    root: Path, stage: Stage, result: StageResult, run: TestRun, seen: SeenHints, all_failures: bool = False, review: bool = True
) -> list[str]:
    number = short_name(stage)
    lines: list[str] = [""]
    if run.problem:
        lines += [bad("The tests did not run to the end: ") + run.problem, ""]
    if result.done:
        lines.append(good(f"All {result.total} tests of {stage.name} pass. Stage done!"))
        if review:  # what passes the tests but a mentor would point out (kata/review/)
            from kata.review import note_lines, review_stage

            lines += note_lines(review_stage(stage), number)
        stages = sorted(p.name for p in (root / "stages").iterdir() if p.is_dir() and p.name[:2].isdigit())
        later = [name for name in stages if name > stage.name]
        if later:
            lines.append(f"Next: stage {later[0]}: read stages/{later[0]}/README.md, then {command(f'kata check {later[0][:2]}')}.")
        else:
            lines.append(f"That was the last stage. {command('kata status')} shows them all.")
        return lines
    hints = stage_hints(stage)
    failures = sort_failures(result, hints)
    to_go = result.total - result.passed
    summary = f"{result.passed} of {result.total} tests pass, {to_go} to go."
    lines.append((warn if result.passed else bad)(summary) if result.total else bad("No test of this stage ran."))
    lines.append("")
    if failures.environment:
        lines += [*environment_lines(failures.environment), ""]
    for name, explanation in failures.broken:
        lines.append(bad(f"{name} does not import: ") + "none of its tests can run.")
        lines.append(indent(explanation.headline))
        lines.append("")
    if failures.tests:
        first, explanation = failures.tests[0]
        lines.append(strong("First failure: ") + first.name)
        lines.append(indent(explanation.headline))
        if explanation.fix:
            lines.append(indent("Likely fix: " + explanation.fix))
        if first.where:
            lines.append(indent(f"in   {first.where}"))
        lines.append(indent(f"test {first.filename}:{first.line_no}"))
        hint = hint_for_failure(hints, seen.seen(stage.name), first.name) if explanation.kind != "import" else None
        if explanation.kind == "import":
            lines.append(indent("Fix this first: no test can check code that Python cannot import."))
        if hint is not None:  # shown unasked: not counted as seen, so `kata hint` starts from it
            lines += ["", strong(hint.label) + f" (more: {command(f'kata hint {number}')}):"]
            lines.append(indent(hint.text))
        others = failures.tests[1:]
        if others:
            shown = others if all_failures else others[:OTHER_FAILURES]
            lines += ["", f"Also failing ({len(others)}):"]
            lines += [indent(f"{test.name}" + (f"  ({trim(exp.headline, 1, 100)})" if all_failures else "")) for test, exp in shown]
            if len(others) > len(shown):
                lines.append(indent(f"... and {len(others) - len(shown)} more ({command(f'kata check {number} --all')})"))
        lines += ["", f"Only this file: pytest {first.filename} -x"]
    elif failures.environment and not failures.broken:
        lines.append("Your code may well be right: fix the environment and run the check again.")
    return lines


# --- kata hint -----------------------------------------------------------------------------


def hint_lines(stage: Stage, hints: list[Hint], hint: Hint, seen_before: list[int]) -> list[str]:
    number = short_name(stage)
    tests = ", ".join(hint.tests)
    title = f": {hint.title}" if hint.title else ""
    lines = [strong(f"{hint.label} for {stage.name}{title}") + f" (helps with {tests}):", ""]
    lines.append(indent(hint.text))
    lines.append("")
    seen = set(seen_before) | {hint.number}
    more_here = [h for h in hints if h.task == hint.task and h.level > hint.level and h.number not in seen]
    unseen = [h for h in hints if h.number not in seen]
    if more_here:
        lines.append(
            f"Think it over and try again; still stuck? {command(f'kata hint {number}')} gives "
            f"{more_here[0].level_name} (hint {more_here[0].level} of {hint.levels} for task {hint.task})."
        )
    elif unseen:
        lines.append(f"That was the last hint for task {hint.task}. Next: {command(f'kata hint {number}')}; task N: kata hint {number} N.")
    else:
        lines.append(f"That was the last unseen hint of {stage.name}. Task N again: {command(f'kata hint {number} N')}.")
    return lines


def pick_hint(hints: list[Hint], seen: list[int], result: StageResult | None) -> tuple[Hint | None, bool]:
    """The hint to show next, and whether every hint had already been seen."""
    failing = [test.name for test in result.failures] if result else []
    hint = next_hint(hints, seen, failing)
    if hint is not None:
        return hint, False
    return None, True
