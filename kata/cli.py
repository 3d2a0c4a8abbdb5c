"""The `kata` command: `python -m kata`, or `kata` once the virtual environment is active.

Learners: status (the default), check, hint, diff, reset, watch, review, quiz.
Instructors: grade, workflow, export. Maintainers: selfcheck, giphy-standin.

Every answer about the tests comes from running them (one pytest process per command);
a stage's last clean result is kept, and used again only while nothing it depends on changed
(kata/cache.py).

This module is the wiring, as pytest's main.py is: each command parses its options and calls
the module that does the work. A module that costs more than a few milliseconds to import is
imported by its command, so `kata --help` (about 55 ms of imports) stays quick: kata.stack
(about 90 ms: Flask, Celery), the feedback and the watch loop (20-25 ms), the review, the
grader and workflow, the quiz, and the maintainers' tools (7-20 ms each; all of them together
would more than double the imports of `kata --help`).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from kata import gitops, warm
from kata.export import ExportError, export, left_out
from kata.layout import PACKAGE, Stage
from kata.project import KataError, find_root, resolve_stage, short_name
from kata.session import Session

STAGE_HELP = "STAGE is 01, 1, 01_sync or sync; without it, the first stage not done yet."


class StageParam(click.ParamType):
    name = "stage"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Stage:
        if isinstance(value, Stage):
            return value
        session = ctx.find_object(Session) if ctx else None
        root = session.root if session else find_root()
        try:
            return resolve_stage(root, str(value))
        except KataError as error:
            self.fail(str(error), param, ctx)


STAGE = StageParam()


def _echo(*args: Any, **kwargs: Any) -> None:
    click.echo(*args, **kwargs)


def _no_solutions(session: Session, why: str) -> None:
    if not session.has_solutions():
        raise click.ClickException(f"This copy of the kata has no solutions/ (a student template): {why}")


integration_option = click.option(
    "--integration", is_flag=True, help="also run the integration tier, where the stage has one (real redis-server, celery worker, maildump)"
)
solutions_option = click.option(
    "--solutions", is_flag=True, help="run against the reference code in solutions/ instead of yours"
)


class InOrder(click.Group):
    """List the commands as they are defined: learners' first, maintainers' last. A KataError
    (a problem the learner can fix) is said as click says its errors: one line, exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KataError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=InOrder, invoke_without_command=True)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="the kata's directory (default: the first one from here upward with stages/)",
)
@click.option("--color/--no-color", default=None, help="colour the output (default: only on a terminal)")
@click.pass_context
def main(ctx: click.Context, root: Path | None, color: bool | None) -> None:
    """Work-It Kata: move a slow Flask email into a Celery background job, step by step.

    Without a command: `kata status`.
    """
    ctx.color = color
    ctx.obj = Session(root, _echo)
    if ctx.invoked_subcommand is None:
        ctx.invoke(status)


# --- learners ----------------------------------------------------------------------------


@main.command()
@integration_option
@solutions_option
@click.pass_obj
def status(kata: Session, integration: bool, solutions: bool) -> None:
    """Where you are: every stage's tests, the next step and the files with TODOs left.

    Runs all the tests (one pytest process); exits 1 until every stage is done.
    """
    from kata import feedback

    if not feedback.status(kata, integration, solutions):
        raise SystemExit(1)


@main.command()
@click.argument("stage", type=STAGE, required=False)
@integration_option
@solutions_option
@click.option("--all", "all_failures", is_flag=True, help="list every failing test, with why")
@click.pass_obj
def check(kata: Session, stage: Stage | None, integration: bool, solutions: bool, all_failures: bool) -> None:
    """Run one stage's tests: the first failure first, with its hint.

    STAGE is 01, 1, 01_sync or sync; without it, the stage you are writing (the first with
    a step left to write), else the first stage not done yet. Exits 0 when the stage is done.
    """
    from kata import feedback

    if not feedback.check(kata, stage, integration, solutions, all_failures):
        raise SystemExit(1)


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.argument("number", metavar="[TASK]", type=click.IntRange(min=1), required=False)
@click.option("--no-run", is_flag=True, help="do not run the tests to find the hint for what fails")
@click.option("--forget", is_flag=True, help="forget which of the stage's hints you have seen")
@click.pass_obj
def hint(kata: Session, stage: Stage | None, number: int | None, no_run: bool, forget: bool) -> None:
    """Show the next hint, one level more each time: a nudge, the API, a sketch, the code.

    Without TASK: the next hint for the task of the first failing test (the stage's tests
    run first, unless --no-run). With TASK (the README's task number): that task's next
    hint, or its last one again. STAGE is 01, 1, 01_sync or sync; without it, the first
    stage not done yet. Seen hints are remembered in .kata/hints-seen.json.
    """
    from kata import feedback

    feedback.hint(kata, stage, number, no_run, forget)


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.pass_obj
def diff(kata: Session, stage: Stage | None) -> None:
    """Your stage against the reference solution, as a unified diff.

    Coloured on a terminal, plain when piped (kata diff 01 > my.diff). STAGE is 01, 1,
    01_sync or sync; without it, the first stage not done yet.
    """
    from kata import feedback

    _no_solutions(kata, "there is nothing to compare with.")
    if stage is None:
        stage, _ = feedback.first_open_stage(kata)
    lines = feedback.diff_lines(stage)
    for line in lines:
        _echo(line)
    if not lines:
        click.echo(f"stages/{stage.name}/{PACKAGE} is the same as solutions/{stage.name}/{PACKAGE}.", err=True)


@main.command()
@click.argument("stage", type=STAGE)
@click.option("--ref", default="HEAD", show_default=True, help="the git commit to take the skeleton from")
@click.option("--first", is_flag=True, help="take it from the repository's first commit (a student template's skeleton)")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
@click.pass_obj
def reset(kata: Session, stage: Stage, ref: str, first: bool, yes: bool) -> None:
    """Put a stage's skeleton back: stages/NN_x/workit as git has it.

    By default the files come from HEAD, your last commit: that undoes what you changed
    since. If you committed your work, or in a repository made from the student template,
    use --first (the untouched skeleton of the template's first commit) or --ref COMMIT.
    Your current files are saved in .kata/backup/ first. Needs a git checkout. STAGE is 01,
    1, 01_sync or sync.
    """
    plan = gitops.plan_reset(kata.root, stage, ref, first)
    if not plan.changed:
        _echo(f"{plan.path} already matches {plan.ref}: nothing to reset.")
        if plan.ref == "HEAD":
            _echo("If you committed your work, --first (the template's first commit) or --ref COMMIT go further back.")
        return
    _echo(f"kata reset {short_name(stage)} puts back {plan.path} as it is in {plan.ref}. These files change:")
    for name in plan.changed:
        _echo(f"  {name}")
    if not yes and not click.confirm("Replace them? (a copy of yours goes to .kata/backup/)", default=False):
        _echo("Nothing changed.")
        raise SystemExit(1)
    backup = gitops.apply_reset(kata.root, stage, plan)
    _echo(f"Done: {plan.path} is the skeleton from {plan.ref} again. Your version: {backup.relative_to(kata.root)}/")
    if plan.extra:
        _echo("Files you added are still there (git does not know them): " + ", ".join(plan.extra))


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.option("--manual", is_flag=True, help="no file watching: press Enter to run the check again")
@click.option("--poll", is_flag=True, help="look for changes by polling (for file systems without change events)")
@click.option("--cold", is_flag=True, help="start a fresh Python for every check (no warm runner)")
@integration_option
@click.pass_obj
def watch(kata: Session, stage: Stage | None, manual: bool, poll: bool, cold: bool, integration: bool) -> None:
    """Run a stage's check again on every save under stages/NN_x.

    On a terminal, keys act at once: h the next hint, r run again, n the next stage (once
    this one passes), l every stage, q quit. Checks run in a warm Python that has the
    libraries imported already (Linux; elsewhere, or with --cold, a fresh one each time).
    File changes come from watchfiles. Where they do not arrive (some network drives,
    containers, WSL on a Windows folder), use --poll, or --manual to press Enter instead.
    STAGE is 01, 1, 01_sync or sync; without it, the stage you are writing.
    """
    from kata.watch import watch as watch_loop

    if not cold:
        kata.launcher = warm.launcher()
    try:
        watch_loop(kata, stage, manual, poll, integration)
    except KeyboardInterrupt:
        _echo("\nStopped watching.")


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="also write the review here (exercism's analysis.json format)")
@solutions_option
@click.pass_obj
def review(kata: Session, stage: Stage | None, json_path: Path | None, solutions: bool) -> None:
    """What a mentor would say about your approach, beyond pass or fail.

    Reads the stage's workit/ (it runs no test and changes no file) and comments on what
    passes the tests but would hurt in production, with why and what to read. Always exits
    0. STAGE is 01, 1, 01_sync or sync; without it, the last stage whose steps are all
    written (before the first with a step left), else the first stage.
    """
    from kata.review import review_lines, review_stage, write_json

    target = kata.target(solutions)
    stage = stage or kata.last_written_stage()
    result = review_stage(stage, target)
    for line in review_lines(result, f"{target}/{stage.name}/{PACKAGE}"):
        _echo(line)
    if json_path is not None:
        write_json(result, json_path)
        _echo(f"Written to {json_path}.")


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.option("--again", is_flag=True, help="ask every question, answered before or not")
@click.pass_obj
def quiz(kata: Session, stage: Stage | None, again: bool) -> None:
    """Check your understanding: the stage README's questions, one at a time.

    Write your answer (or pick, where there are choices), then read the model answer.
    Answers are kept in .kata/quiz.json; kata status shows how many you have answered.
    Without a terminal, answers are read from stdin, one line each. STAGE is 01, 1,
    01_sync or sync; without it, the first stage with a question left.
    """
    from kata.quiz import session

    def read(prompt: str) -> str | None:
        _echo(prompt, nl=False)
        line = sys.stdin.readline()
        if not line:
            _echo("")
            return None
        if not sys.stdin.isatty():  # answers piped in: show them, so the transcript reads
            _echo(line.rstrip("\n"))
        return line.rstrip("\n")

    raise SystemExit(session(kata.root, kata.stages, stage, again, read, _echo))


# --- instructors -------------------------------------------------------------------------


def _grading_config(kata: Session, weights: Path | None, graded: list[Stage] | None = None) -> Any:
    """The stage weights (kata/grading.toml unless given), checked against the stages on disk,
    or, for `graded` stages, only that each of them has one."""
    from kata.grading import GradingError, check_weights, load_config, weights_path

    path = weights or weights_path(kata.root)
    try:
        config = load_config(path)
        check_weights(config, graded if graded is not None else kata.stages, path, every_weight=graded is None)
    except GradingError as error:
        raise KataError(str(error)) from None
    return config


@main.command()
@click.argument("stages", nargs=-1, type=STAGE)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="write the result here (GitHub Classroom's runner format)")
@click.option("--timeout", "time_limit", type=float, default=600, show_default=True, help="stop the whole run after this many seconds; unfinished tests grade as errors")
@integration_option
@solutions_option
@click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="points per stage (default: kata/grading.toml)")
@click.option("--pytest-args", default="", help="more pytest arguments, as one string (e.g. '--timeout 5')")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1024),
    help="keep the --json result under this size (compact; less detail per test when needed, never other points)",
)
@click.pass_obj
def grade(
    kata: Session,
    stages: tuple[Stage, ...],
    json_path: Path | None,
    time_limit: float,
    integration: bool,
    solutions: bool,
    weights: Path | None,
    pytest_args: str,
    max_bytes: int | None,
) -> None:
    """Grade the stages with partial credit: each passing test earns its share of its stage's points.

    Prints a score table; --json FILE writes the result in GitHub Classroom's runner format
    (documented in the README and kata/grading.py). A test that hangs is stopped by
    pytest-timeout and fails; a run that outlives --timeout is stopped and its unfinished
    tests grade as errors. Bonus stages (kata/grading.toml's [bonus]) are extra credit: their
    points add to the score, not to the maximum. Exits 0 only when every core test passes.
    The Classroom workflow passes --max-bytes: the reporter gets the result in one
    environment variable, which Linux limits (kata/workflow.py).
    """
    from kata.grading import GradingError, score_lines, write_json
    from kata.grading import grade as grade_run

    target = kata.target(solutions)
    chosen = list(stages) or kata.stages
    config = _grading_config(kata, weights, chosen)
    args = shlex.split(pytest_args) + (["--integration"] if integration else [])
    run = kata.run(chosen, "grading", target=target, pytest_args=args, time_limit=time_limit)
    result = grade_run(kata.root, run, config)
    if json_path is not None:
        try:
            write_json(result, json_path, max_bytes)
        except GradingError as error:
            raise click.ClickException(str(error)) from None
    for line in score_lines(result, run.stages, config, json_path):
        _echo(line)
    if result["status"] != "pass":
        raise SystemExit(1)


@main.command()
@click.option("--check", "check_only", is_flag=True, help="do not write: exit 1 if the workflow file is not up to date")
@click.option("--partial-credit", is_flag=True, help="grade with `kata grade` (points per test) instead of the command grader (all or nothing per stage)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="where to write it; - for stdout (default: .github/workflows/classroom.yml)")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="points per stage (default: kata/grading.toml)")
@click.pass_obj
def workflow(kata: Session, check_only: bool, partial_credit: bool, output: Path | None, weights: Path | None) -> None:
    """Write GitHub Classroom's autograding workflow from kata/grading.toml.

    One graded step per stage on disk, with the stage's points; after changing the weights
    or adding a stage, run it again and commit the result.
    """
    from kata.workflow import WORKFLOW_PATH, render

    config = _grading_config(kata, weights)
    text = render(kata.stages, config, partial_credit)
    if output is not None and str(output) == "-":
        click.echo(text, nl=False)
        return
    target = output or kata.root / WORKFLOW_PATH
    if check_only:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{target} is not what kata/grading.toml gives: run `python -m kata workflow` and commit it.")
        _echo(f"{target} is up to date.")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    _echo(f"wrote {target}")


@main.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--without-solutions/--with-solutions", default=True, show_default=True, help="leave out solutions/ and what needs it")
@click.option("--git", is_flag=True, help="also `git init` the template and commit it (its first commit is the skeleton `kata reset --first` restores)")
@click.pass_obj
def export_command(kata: Session, directory: Path, without_solutions: bool, git: bool) -> None:
    """Write a student template of the kata to DIRECTORY (new or empty).

    Without solutions/ (the default): also without the maintainers' self-check, its CI and
    the finished app's launchers; the README, Makefile and conftest.py are the learners'
    versions. Push the directory to a new repository and mark it a template for GitHub
    Classroom: its .github/workflows/classroom.yml grades every push.
    """
    try:
        written = export(kata.root, directory, without_solutions, git)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    kind = "student template (no solutions/)" if without_solutions else "copy, solutions included"
    _echo(f"wrote {len(written)} files to {directory}: a {kind}.")
    new = left_out(kata.root, without_solutions)
    if new:
        shown = ", ".join(new[:8]) + (f" and {len(new) - 8} more" if len(new) > 8 else "")
        _echo(click.style(f"Left out {len(new)} file(s) git does not track yet (commit them to export them): ", fg="yellow") + shown)
    _echo(f"Try it: cd {directory} && make test")


# --- maintainers -------------------------------------------------------------------------


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def selfcheck(kata: Session, pytest_args: tuple[str, ...]) -> None:
    """Maintainers: prove every solution passes and every skeleton fails for the right reason.

    Extra arguments go to both pytest runs, e.g. `kata selfcheck --integration`.
    """
    from kata.giveaway import format_report, giveaway_reports, names_summary
    from kata.selfcheck import format_table, hints_problems, run_selfcheck
    from kata.stage_text import guidance_problems

    root = kata.root
    if not (root / "solutions").is_dir():
        raise click.ClickException("The self-check compares stages/ with solutions/, and this copy has no solutions/ (a student template).")
    started = time.monotonic()
    verdicts, problems = run_selfcheck(root, list(pytest_args))
    problems += hints_problems(root)
    problems += guidance_problems(root)
    click.echo(format_table(verdicts))
    click.echo("\nThe learner's lines that the skeleton or README give away (kata giveaway):")
    click.echo(format_report(giveaway_reports(root), lines=False))
    click.echo("\nThe library names handed over (kata giveaway --names):")
    click.echo("\n".join(names_summary(root, [], names=False)[0]))
    for verdict in verdicts:
        problems += [f"{verdict.stage}: {p}" for p in verdict.problems]
    click.echo(f"\nself-check took {time.monotonic() - started:.1f} s")
    checks = sum(v.solution_passing + v.skeleton_failing + v.given for v in verdicts)
    not_run = [entry for verdict in verdicts for entry in verdict.not_run]
    if problems:
        click.echo(f"\n{len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        click.echo(f"selfcheck: {checks} passed, {len(problems)} failed")
        _not_run_lines(not_run)
        raise SystemExit(1)
    click.echo("self-check passed: every solution passes, every skeleton fails as intended.")
    click.echo(f"selfcheck: {checks} passed, 0 failed")
    _not_run_lines(not_run)


def _not_run_lines(not_run: list[Any]) -> None:
    """The tests skipped for want of a service (kata.services), last: here, or under `make test`
    (KATA_NOT_RUN) in its folder, for make test's own last lines."""
    from kata.services import NOT_RUN_ENV, summary_lines, write_not_run

    folder = os.environ.get(NOT_RUN_ENV)
    if folder:
        write_not_run(folder, "selfcheck", not_run)
        if not_run:
            click.echo(f"{len(not_run)} test(s) not run here for want of a service: listed at the end.")
        return
    for line in summary_lines(not_run):
        click.echo(click.style(line, fg="yellow"))


@main.command()
@click.option("--check", is_flag=True, help="write nothing; exit 1 if a committed tree differs from the source")
@click.pass_obj
def generate(kata: Session, check: bool) -> None:
    """Maintainers: write every stages/NN_x/workit and solutions/NN_x/workit from source/workit."""
    from kata.source import SOURCE_DIR, SourceError, agreement_problems, drift_problems
    from kata.source import generate as write_trees

    try:
        problems = drift_problems(kata.root) + agreement_problems(kata.root) if check else []
        written = [] if check else write_trees(kata.root)
    except SourceError as error:
        raise click.ClickException(str(error)) from None
    for problem in problems:
        click.echo(f"  - {problem}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) with {SOURCE_DIR} and the trees it makes (a hand edit to a tree does not land).", err=True)
        raise SystemExit(1)
    click.echo(f"{len(written)} file(s) written from {SOURCE_DIR}" if not check else f"every tree matches {SOURCE_DIR}")


@main.command()
@click.argument("stages", nargs=-1, type=STAGE)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="stages built and run at once")
@click.pass_obj
def taskorder(kata: Session, stages: tuple[Stage, ...], workers: int) -> None:
    """Maintainers: each task's tests pass with it and the tasks before it done, none after."""
    from kata.taskorder import format_result, run_taskorder

    results = run_taskorder(kata.root, [stage.name for stage in stages], workers, lambda r: click.echo(format_result(r)))
    stuck = [result for result in results if not result.ok]
    click.echo(f"taskorder: {len(results) - len(stuck)} passed, {len(stuck)} failed")
    if stuck:
        raise SystemExit(1)


@main.command()
@click.argument("stages", nargs=-1, type=STAGE)
@click.option("--names", is_flag=True, help="the library names handed over instead: in the README's code, skeleton, nudges, tests' strings")
@click.pass_obj
def giveaway(kata: Session, stages: tuple[Stage, ...], names: bool) -> None:
    """Maintainers: the learner's lines that a stage's skeleton or README give away.

    The learner's lines are the solution minus the skeleton (no comments, docstrings,
    imports or short lines); one is given away when 80% of it stands there as one run.
    Exits 1 over the limits (15% in a stage, 10% in all), as the self-check does.
    With --names: the library names of those lines (methods, keyword arguments, decorators)
    that the README's code, the skeleton, the nudges or the tests' strings hand over, and the
    nudges that name one (kata/giveaway.py).
    """
    from kata.giveaway import format_report, giveaway_problems, giveaway_reports, names_summary

    _no_solutions(kata, "nothing to measure.")
    if names:
        lines, failed = names_summary(kata.root, [stage.name for stage in stages])
        click.echo("\n".join(lines))
        raise SystemExit(1 if failed else 0)
    reports = giveaway_reports(kata.root)
    problems = giveaway_problems(reports)
    if stages:
        wanted = {stage.name for stage in stages}
        reports = [report for report in reports if report.stage in wanted]
    click.echo(format_report(reports))
    if problems:
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)


@main.command()
@click.argument("stages", nargs=-1, type=STAGE)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="mutants run at once")
@click.pass_obj
def mutants(kata: Session, stages: tuple[Stage, ...], workers: int) -> None:
    """Maintainers: run the mutation suite (solutions/NN_x/mutants.toml).

    Each mutant is a plausible wrong solution; the stage's tests, run as on a learner's
    code, must reject it by the expected test with a message that explains the mistake.
    Exits 1 on any survivor, stale mutant or wrong message.
    """
    from kata.mutants import MARKS, MutantsError, report_lines, run_mutants

    _no_solutions(kata, "no mutants to run.")
    started = time.monotonic()
    names = [stage.name for stage in stages] or None
    try:
        verdicts = run_mutants(kata.root, names, workers, progress=lambda v: _echo(MARKS[v.status], nl=False))
    except MutantsError as error:
        raise click.ClickException(str(error)) from None
    _echo("")
    if not verdicts:
        raise click.ClickException("No mutants found: write solutions/NN_x/mutants.toml (see kata/mutants.py).")
    for line in report_lines(verdicts, workers, time.monotonic() - started):
        _echo(line)
    if any(v.status != "killed" for v in verdicts):
        raise SystemExit(1)


@main.command("giphy-standin")
@click.option("--port", default=5100, show_default=True)
@click.option("--delay", default=2.0, show_default=True, help="seconds before each answer")
def giphy_standin(port: int, delay: float) -> None:
    """A local Giphy for offline runs: point GIPHY_API_URL at http://127.0.0.1:PORT/v1/gifs."""
    from kata.stack import GiphyStandIn

    with GiphyStandIn(delay=delay, port=port) as standin:
        click.echo(f"Giphy stand-in on {standin.api_url}, answering after {delay:.1f} s (Ctrl-C stops it)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
