"""Feedback: what `kata status`, `kata check`, `kata hint` and `kata diff` say.

The lines are built from a finished test run; the commands at the end run the tests (through
a kata.session.Session) and print them.
"""

from __future__ import annotations

import difflib
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import click

from kata.explain import Explanation, explain, explain_broken, trim
from kata.hints import Hint, HintsError, SeenHints, hint_for_failure, load_hints, next_hint, order_key
from kata.layout import PACKAGE, Stage
from kata.project import KataError, short_name, todo_files
from kata.quiz import QuizProgress, progress_text
from kata.reports import StageResult, TestResult, TestRun
from kata.session import Session
from kata.trees import package_files

OTHER_FAILURES = 5


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
    """What `kata check` says of a stage; last, the tests this machine could not run (no Chromium...)."""
    lines = _check_lines(root, stage, result, run, seen, all_failures, review)
    if result.not_run:
        from kata.services import NotRun, service_of, summary_lines

        not_run = [NotRun(test.nodeid, service_of(test.message) or "") for test in result.not_run]
        lines += ["", *(warn(line) for line in summary_lines(not_run))]
    return lines


def _check_lines(
    root: Path, stage: Stage, result: StageResult, run: TestRun, seen: SeenHints, all_failures: bool, review: bool
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


# --- kata diff -----------------------------------------------------------------------------


def diff_lines(stage: Stage) -> list[str]:
    """The learner's stage against the reference solution, as a coloured unified diff."""
    mine, reference = stage.code_dir("stages") / PACKAGE, stage.code_dir("solutions") / PACKAGE
    lines: list[str] = []
    for name in sorted(package_files(mine) | package_files(reference)):
        a, b = _read_lines(mine / name), _read_lines(reference / name)
        diff = difflib.unified_diff(a, b, f"stages/{stage.name}/{PACKAGE}/{name} (yours)", f"solutions/{stage.name}/{PACKAGE}/{name} (reference)")
        lines += [_colour_diff_line(line.rstrip("\n")) for line in diff]
    return lines


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    return [line if line.endswith("\n") else line + "\n" for line in lines]


def _colour_diff_line(line: str) -> str:
    if line.startswith(("+++", "---")):
        return click.style(line, bold=True)
    if line.startswith("@@"):
        return click.style(line, fg="cyan")
    if line.startswith("+"):
        return click.style(line, fg="green")
    if line.startswith("-"):
        return click.style(line, fg="red")
    return line


# --- the commands: run the tests, print what they say ---------------------------------------


def first_open_stage(session: Session, target: str = "stages", pytest_args: tuple[str, ...] = ()) -> tuple[Stage, TestRun]:
    """The stage the learner is on, with a run of its tests: the first stage with a step
    left to write (a `raise NotImplementedError("Step ...")`), running only that stage;
    when every step is written (or for --solutions), every stage once and the first one
    not done (else the last)."""
    stages = session.stages
    if target == "stages":
        writing = session.writing_stage()
        if writing is not None:
            return writing, session.run([writing], f"checking {writing.name}", True, target=target, pytest_args=pytest_args)
    run = session.run(stages, "all stages", True, target=target, pytest_args=pytest_args)
    following = first_unfinished(run)
    name = following.stage if following else stages[-1].name
    return next(stage for stage in stages if stage.name == name), run


def status(session: Session, integration: bool, solutions: bool) -> bool:
    """`kata status`: every stage's tests, the next step; whether every stage is done."""
    target = session.target(solutions)
    stages = session.stages
    run = session.run(stages, "running all stages", True, target=target, pytest_args=("--integration",) if integration else ())
    session.echo("")
    for line in status_lines(session.root, stages, run, target):
        session.echo(line)
    return first_unfinished(run) is None and not run.problem


def check(
    session: Session, stage: Stage | None, integration: bool, solutions: bool, all_failures: bool, run: TestRun | None = None
) -> bool:
    """`kata check`: one stage's tests, the first failure first with its hint; whether it is done."""
    target = session.target(solutions)
    args = ("--integration",) if integration else ()
    if stage is None:
        stage, run = first_open_stage(session, target, args)
    elif run is None:
        run = session.run([stage], f"checking {stage.name}", True, target=target, pytest_args=args)
    result = run.stage(stage.name)
    for line in check_lines(session.root, stage, result, run, SeenHints(session.root), all_failures, review=target == "stages"):
        session.echo(line)
    return result.done and not run.problem


def hint(session: Session, stage: Stage | None, number: int | None, no_run: bool, forget: bool) -> None:
    """`kata hint`: the next hint for what fails (or for task `number`), one level more each time."""
    echo = session.echo
    seen = SeenHints(session.root)
    result = None
    if stage is None:
        if no_run:  # without running the tests: the first stage with a step left to write
            stage = session.writing_stage() or session.stages[0]
        else:
            stage, run = first_open_stage(session)
            result = run.stage(stage.name)
    elif not no_run and number is None:
        result = session.run([stage], f"checking {stage.name}", True).stage(stage.name)
    try:
        hints = load_hints(stage)
    except HintsError as error:
        raise KataError(str(error)) from None
    if forget:
        seen.forget(stage.name)
        echo(f"Forgot the hints you had seen for {stage.name}.")
        if number is None:
            return
    if number is not None:
        task = [h for h in hints if h.task == number]
        if not task:
            tasks = max(h.task for h in hints)
            raise KataError(f"{stage.name} has {tasks} tasks: ask for 1 to {tasks}.")
        already = seen.seen(stage.name)
        chosen = next((h for h in task if h.number not in already), task[-1])
    else:
        if result is not None and result.done:
            echo(f"\nEvery test of {stage.name} passes: no hint needed, and none is counted as seen.")
            echo(f"A task's hints all the same: kata hint {short_name(stage)} TASK.")
            return
        chosen, _exhausted = pick_hint(hints, seen.seen(stage.name), result)
        if chosen is None:
            number_text = short_name(stage)
            echo(f"\nYou have seen every hint for {stage.name}, all {len(hints)} of them.")
            echo(f"A task's last hint again: kata hint {number_text} TASK.")
            if (session.root / "solutions" / stage.name).is_dir():
                echo(f"Still stuck? Compare with the reference: kata diff {number_text}")
            return
    show_hint(session, seen, stage, hints, chosen)


def show_hint(session: Session, seen: SeenHints, stage: Stage, hints: list[Hint], chosen: Hint) -> None:
    """Print a hint and remember that the learner has seen it."""
    before = seen.seen(stage.name)
    seen.mark(stage.name, chosen.number)
    session.echo("")
    for line in hint_lines(stage, hints, chosen, before):
        session.echo(line)
