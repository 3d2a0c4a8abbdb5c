"""The `kata` command: `python -m kata`, or `kata` once the virtual environment is active.

Learners: status (the default), check, hint, diff, reset, watch, review, quiz.
Instructors: grade, workflow, export. Maintainers: selfcheck, giphy-standin.

Every answer about the tests comes from running them (one pytest process per command);
nothing about test results is stored between commands.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from kata.layout import PACKAGE, Stage
from kata.project import KataError, find_root, resolve_stage, short_name, stages_of
from kata.reports import TestRun
from kata.runner import run_tests
from kata.trees import package_files

ROOT = Path(__file__).resolve().parent.parent  # the kata this package belongs to

STAGE_HELP = "STAGE is 01, 1, 01_sync or sync; without it, the first stage not done yet."


@dataclass
class Kata:
    """Per-invocation state: where the kata is (found lazily)."""

    root_option: Path | None = None
    _root: Path | None = field(default=None, repr=False)
    launcher: Any = field(default=None, repr=False)  # kata.warm's, while watching

    @property
    def root(self) -> Path:
        if self._root is None:
            try:
                self._root = find_root(self.root_option) if self.root_option is None else self._given_root()
            except KataError as error:
                raise click.ClickException(str(error)) from None
        return self._root

    def _given_root(self) -> Path:
        from kata.project import is_kata_root

        assert self.root_option is not None
        root = self.root_option.resolve()
        if not is_kata_root(root):
            raise KataError(f"--root {self.root_option}: no stages/ with solutions/ or conftest.py there")
        return root

    @property
    def stages(self) -> list[Stage]:
        try:
            return stages_of(self.root)
        except KataError as error:
            raise click.ClickException(str(error)) from None


class StageParam(click.ParamType):
    name = "stage"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Stage:
        if isinstance(value, Stage):
            return value
        kata = ctx.find_object(Kata) if ctx else None
        root = kata.root if kata else find_root()
        try:
            return resolve_stage(root, str(value))
        except KataError as error:
            self.fail(str(error), param, ctx)


STAGE = StageParam()


def _echo(*args: Any, **kwargs: Any) -> None:
    click.echo(*args, **kwargs)


def _run(kata: Kata, stages: list[Stage], label: str, cache: bool = False, refresh: bool = False, **options: Any) -> TestRun:
    """Run the stages' tests with progress dots. With `cache`, a stage whose inputs have not
    changed since its last clean run is not run again (kata.cache); `refresh` runs every
    stage all the same, and keeps the new results."""
    from kata.feedback import ProgressDots

    if kata.launcher is not None:
        options.setdefault("launcher", kata.launcher)
    if not cache:
        dots = ProgressDots(_echo, label)
        run = run_tests(kata.root, stages, progress=dots, **options)
        dots.finish()
        return run
    from kata import cache as results

    target, args = options.get("target", "stages"), tuple(options.get("pytest_args", ()))
    keys = {stage.name: results.key(stage, target, args, dict(os.environ)) for stage in stages}
    kept = {stage.name: None if refresh else results.load(kata.root, stage.name, target, keys[stage.name]) for stage in stages}
    stale = [stage for stage in stages if kept[stage.name] is None]
    if len(stale) < len(stages):
        same = [name for name, result in kept.items() if result is not None]
        _echo(f"{', '.join(same)}: nothing changed since the last run, not run again")
    if stale:
        dots = ProgressDots(_echo, label if len(stale) == len(stages) else f"{label} ({', '.join(s.name for s in stale)})")
        run = run_tests(kata.root, stale, progress=dots, **options)
        dots.finish()
        for stage in stale:
            result = run.stage(stage.name)
            if results.keepable(result, run, args):
                results.store(kata.root, result, target, keys[stage.name])
    else:
        run = TestRun([], 0, "", 0.0)
    fresh = {result.stage: result for result in run.stages}
    ordered = [kept[stage.name] or fresh[stage.name] for stage in stages]
    return dataclasses.replace(run, stages=ordered)


def _target(solutions: bool, kata: Kata) -> str:
    if solutions and not (kata.root / "solutions").is_dir():
        raise click.ClickException("This copy of the kata has no solutions/ (a student template): --solutions has nothing to run.")
    return "solutions" if solutions else "stages"


def _first_open_stage(kata: Kata, target: str = "stages", pytest_args: tuple[str, ...] = ()) -> tuple[Stage, TestRun]:
    """The stage the learner is on, with a run of its tests: the first stage with a step
    left to write (a `raise NotImplementedError("Step ...")`), running only that stage;
    when every step is written (or for --solutions), every stage once and the first one
    not done (else the last)."""
    from kata.feedback import first_unfinished
    from kata.project import todo_files

    stages = kata.stages
    if target == "stages":
        writing = next((s for s in stages if any(f.steps for f in todo_files(kata.root, s))), None)
        if writing is not None:
            return writing, _run(kata, [writing], f"checking {writing.name}", True, target=target, pytest_args=pytest_args)
    run = _run(kata, stages, "all stages", True, target=target, pytest_args=pytest_args)
    following = first_unfinished(run)
    name = following.stage if following else stages[-1].name
    return next(stage for stage in stages if stage.name == name), run


integration_option = click.option(
    "--integration", is_flag=True, help="also run the integration tier, where the stage has one (real redis-server, celery worker, maildump)"
)
solutions_option = click.option(
    "--solutions", is_flag=True, help="run against the reference code in solutions/ instead of yours"
)


class InOrder(click.Group):
    """List the commands as they are defined: learners' first, maintainers' last."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


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
    ctx.obj = Kata(root)
    if ctx.invoked_subcommand is None:
        ctx.invoke(status)


# --- learners ----------------------------------------------------------------------------


@main.command()
@integration_option
@solutions_option
@click.pass_obj
def status(kata: Kata, integration: bool, solutions: bool) -> None:
    """Where you are: every stage's tests, the next step and the files with TODOs left.

    Runs all the tests (one pytest process); exits 1 until every stage is done.
    """
    from kata.feedback import first_unfinished, status_lines

    target = _target(solutions, kata)
    stages = kata.stages
    run = _run(kata, stages, "running all stages", True, target=target, pytest_args=("--integration",) if integration else ())
    _echo("")
    for line in status_lines(kata.root, stages, run, target):
        _echo(line)
    if first_unfinished(run) is not None or run.problem:
        raise SystemExit(1)


@main.command()
@click.argument("stage", type=STAGE, required=False)
@integration_option
@solutions_option
@click.option("--all", "all_failures", is_flag=True, help="list every failing test, with why")
@click.pass_obj
def check(kata: Kata, stage: Stage | None, integration: bool, solutions: bool, all_failures: bool) -> None:
    """Run one stage's tests: the first failure first, with its hint.

    STAGE is 01, 1, 01_sync or sync; without it, the stage you are writing (the first with
    a step left to write), else the first stage not done yet. Exits 0 when the stage is done.
    """
    _check(kata, stage, integration, solutions, all_failures)


def _check(
    kata: Kata, stage: Stage | None, integration: bool, solutions: bool, all_failures: bool, run: TestRun | None = None
) -> bool:
    from kata.feedback import check_lines
    from kata.hints import SeenHints

    target = _target(solutions, kata)
    args = ("--integration",) if integration else ()
    if stage is None:
        stage, run = _first_open_stage(kata, target, args)
    elif run is None:
        run = _run(kata, [stage], f"checking {stage.name}", True, target=target, pytest_args=args)
    result = run.stage(stage.name)
    for line in check_lines(kata.root, stage, result, run, SeenHints(kata.root), all_failures, review=target == "stages"):
        _echo(line)
    if not result.done or run.problem:
        raise SystemExit(1)
    return True


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.argument("number", metavar="[TASK]", type=click.IntRange(min=1), required=False)
@click.option("--no-run", is_flag=True, help="do not run the tests to find the hint for what fails")
@click.option("--forget", is_flag=True, help="forget which of the stage's hints you have seen")
@click.pass_obj
def hint(kata: Kata, stage: Stage | None, number: int | None, no_run: bool, forget: bool) -> None:
    """Show the next hint, one level more each time: a nudge, the API, a sketch, the code.

    Without TASK: the next hint for the task of the first failing test (the stage's tests
    run first, unless --no-run). With TASK (the README's task number): that task's next
    hint, or its last one again. STAGE is 01, 1, 01_sync or sync; without it, the first
    stage not done yet. Seen hints are remembered in .kata/hints-seen.json.
    """
    from kata.feedback import pick_hint
    from kata.hints import HintsError, SeenHints, load_hints

    seen = SeenHints(kata.root)
    result = None
    if stage is None:
        if no_run:  # without running the tests: the first stage with a step left to write
            from kata.project import todo_files

            stage = next((s for s in kata.stages if any(f.steps for f in todo_files(kata.root, s))), kata.stages[0])
        else:
            stage, run = _first_open_stage(kata)
            result = run.stage(stage.name)
    elif not no_run and number is None:
        result = _run(kata, [stage], f"checking {stage.name}", True).stage(stage.name)
    try:
        hints = load_hints(stage)
    except HintsError as error:
        raise click.ClickException(str(error)) from None
    if forget:
        seen.forget(stage.name)
        _echo(f"Forgot the hints you had seen for {stage.name}.")
        if number is None:
            return
    if number is not None:
        task = [h for h in hints if h.task == number]
        if not task:
            tasks = max(h.task for h in hints)
            raise click.ClickException(f"{stage.name} has {tasks} tasks: ask for 1 to {tasks}.")
        already = seen.seen(stage.name)
        chosen = next((h for h in task if h.number not in already), task[-1])
    else:
        if result is not None and result.done:
            _echo(f"\nEvery test of {stage.name} passes: no hint needed, and none is counted as seen.")
            _echo(f"A task's hints all the same: kata hint {short_name(stage)} TASK.")
            return
        chosen, _exhausted = pick_hint(hints, seen.seen(stage.name), result)
        if chosen is None:
            number_text = short_name(stage)
            _echo(f"\nYou have seen every hint for {stage.name}, all {len(hints)} of them.")
            _echo(f"A task's last hint again: kata hint {number_text} TASK.")
            if (kata.root / "solutions" / stage.name).is_dir():
                _echo(f"Still stuck? Compare with the reference: kata diff {number_text}")
            return
    _show_hint(seen, stage, hints, chosen)


def _show_hint(seen: Any, stage: Stage, hints: list[Any], chosen: Any) -> None:
    """Print a hint and remember that the learner has seen it."""
    from kata.feedback import hint_lines

    before = seen.seen(stage.name)
    seen.mark(stage.name, chosen.number)
    _echo("")
    for line in hint_lines(stage, hints, chosen, before):
        _echo(line)


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.pass_obj
def diff(kata: Kata, stage: Stage | None) -> None:
    """Your stage against the reference solution, as a unified diff.

    Coloured on a terminal, plain when piped (kata diff 01 > my.diff). STAGE is 01, 1,
    01_sync or sync; without it, the first stage not done yet.
    """
    if not (kata.root / "solutions").is_dir():
        raise click.ClickException("This copy of the kata has no solutions/ (a student template): there is nothing to compare with.")
    if stage is None:
        stage, _ = _first_open_stage(kata)
    mine, reference = stage.code_dir("stages") / PACKAGE, stage.code_dir("solutions") / PACKAGE
    files = sorted(package_files(mine) | package_files(reference))
    changed = 0
    for name in files:
        a, b = _read_lines(mine / name), _read_lines(reference / name)
        lines = list(
            difflib.unified_diff(a, b, f"stages/{stage.name}/{PACKAGE}/{name} (yours)", f"solutions/{stage.name}/{PACKAGE}/{name} (reference)")
        )
        changed += bool(lines)
        for line in lines:
            _echo(_colour_diff_line(line.rstrip("\n")))
    if not changed:
        click.echo(f"stages/{stage.name}/{PACKAGE} is the same as solutions/{stage.name}/{PACKAGE}.", err=True)


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


@main.command()
@click.argument("stage", type=STAGE)
@click.option("--ref", default="HEAD", show_default=True, help="the git commit to take the skeleton from")
@click.option("--first", is_flag=True, help="take it from the repository's first commit (a student template's skeleton)")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
@click.pass_obj
def reset(kata: Kata, stage: Stage, ref: str, first: bool, yes: bool) -> None:
    """Put a stage's skeleton back: stages/NN_x/workit as git has it.

    By default the files come from HEAD, your last commit: that undoes what you changed
    since. If you committed your work, or in a repository made from the student template,
    use --first (the untouched skeleton of the template's first commit) or --ref COMMIT.
    Your current files are saved in .kata/backup/ first. Needs a git checkout. STAGE is 01,
    1, 01_sync or sync.
    """
    root = kata.root
    path = f"stages/{stage.name}/{PACKAGE}"

    def git(*args: str, check: bool = True) -> str:
        done = subprocess.run(["git", *args], check=False, cwd=root, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise click.ClickException(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], check=False, cwd=root, capture_output=True, text=True, timeout=60)
    except OSError:
        raise click.ClickException("kata reset needs git, and git is not installed.") from None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise click.ClickException(
            f"{root} is not a git checkout, so kata reset cannot know what the skeleton was. "
            "Clone the kata with git (or copy stages/ from a fresh download) to get it back."
        )
    if first and (root / "solutions").is_dir():
        raise click.ClickException(
            "--first is for a student template, whose first commit is the untouched skeleton. "
            "This is the kata's own repository (it has solutions/), where the first commit is "
            "an early draft: use --ref COMMIT, or plain `kata reset` for HEAD."
        )
    if first:
        roots = git("rev-list", "--max-parents=0", "HEAD").split()
        if not roots:
            raise click.ClickException("This repository has no commits yet.")
        ref = git("rev-parse", "--short", roots[-1]).strip()
    if git("cat-file", "-t", f"{ref}:{path}", check=False).strip() != "tree":
        raise click.ClickException(f"{ref} has no {path}: pick a commit that has this stage (--ref COMMIT).")
    changed = [line for line in git("diff", "--name-only", ref, "--", path).splitlines() if line]
    extra = [line for line in git("ls-files", "--others", "--exclude-standard", "--", path).splitlines() if line]
    if not changed:
        _echo(f"{path} already matches {ref}: nothing to reset.")
        if ref == "HEAD":
            _echo("If you committed your work, --first (the template's first commit) or --ref COMMIT go further back.")
        return
    _echo(f"kata reset {short_name(stage)} puts back {path} as it is in {ref}. These files change:")
    for name in changed:
        _echo(f"  {name}")
    if not yes and not click.confirm("Replace them? (a copy of yours goes to .kata/backup/)", default=False):
        _echo("Nothing changed.")
        raise SystemExit(1)
    backup = root / ".kata" / "backup" / f"{stage.name}-{datetime.now():%Y%m%d-%H%M%S}"
    for name in changed:
        source = root / name
        if source.is_file():
            (backup / name).parent.mkdir(parents=True, exist_ok=True)
            (backup / name).write_bytes(source.read_bytes())
    git("checkout", ref, "--", path)
    _echo(f"Done: {path} is the skeleton from {ref} again. Your version: {backup.relative_to(root)}/")
    if extra:
        _echo("Files you added are still there (git does not know them): " + ", ".join(extra))


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.option("--manual", is_flag=True, help="no file watching: press Enter to run the check again")
@click.option("--poll", is_flag=True, help="look for changes by polling (for file systems without change events)")
@click.option("--cold", is_flag=True, help="start a fresh Python for every check (no warm runner)")
@integration_option
@click.pass_obj
def watch(kata: Kata, stage: Stage | None, manual: bool, poll: bool, cold: bool, integration: bool) -> None:
    """Run a stage's check again on every save under stages/NN_x.

    On a terminal, keys act at once: h the next hint, r run again, n the next stage (once
    this one passes), l every stage, q quit. Checks run in a warm Python that has the
    libraries imported already (Linux; elsewhere, or with --cold, a fresh one each time).
    File changes come from watchfiles. Where they do not arrive (some network drives,
    containers, WSL on a Windows folder), use --poll, or --manual to press Enter instead.
    STAGE is 01, 1, 01_sync or sync; without it, the stage you are writing.
    """
    from kata import warm

    if not cold:
        kata.launcher = warm.launcher()
    try:
        first_run = None
        if stage is None:
            stage, first_run = _first_open_stage(kata, pytest_args=("--integration",) if integration else ())
        _watch(kata, stage, manual, poll, integration, first_run)
    except KeyboardInterrupt:
        _echo("\nStopped watching.")


def _check_once(kata: Kata, stage: Stage, integration: bool, run: TestRun | None = None, fresh: bool = False) -> TestRun:
    """One check, its lines printed; the run it used (fresh: not from the cache)."""
    if run is None:
        args = ("--integration",) if integration else ()
        run = _run(kata, [stage], f"checking {stage.name}", True, fresh, target="stages", pytest_args=args)
    with contextlib.suppress(SystemExit):
        _check(kata, stage, integration, False, False, run)
    return run


def _stages_done(kata: Kata, latest: dict[str, Any]) -> int:
    """How many stages are done: the watch's latest result of a stage, else the kept one (a
    stage never run counts as not)."""
    from kata import cache
    from kata.watch import stages_done

    by_name = {stage.name: stage for stage in kata.stages}

    def kept(name: str) -> Any:
        return cache.load(kata.root, name, "stages", cache.key(by_name[name], "stages", (), dict(os.environ)))

    return stages_done(list(by_name), latest, kept)


def _watch(kata: Kata, stage: Stage, manual: bool, poll: bool, integration: bool, first_run: TestRun | None) -> None:
    from kata.watch import KEYS_LINE, Events, cbreak, keys_available, progress_bar

    events = Events()
    keys = not manual and keys_available()
    run = _check_once(kata, stage, integration, first_run)
    latest: dict[str, Any] = {}  # each stage's newest result in this watch

    def waiting() -> None:
        latest.update({result.stage: result for result in run.stages})
        _echo("")
        _echo(progress_bar(_stages_done(kata, latest), len(kata.stages)))
        if manual:
            _echo(f"Press Enter to check {stage.name} again (Ctrl-C stops).")
        else:
            _echo(f"Watching {(kata.root / 'stages' / stage.name).relative_to(kata.root)} for changes (Ctrl-C stops).")
            if keys:
                _echo(KEYS_LINE)

    if manual:
        events.read_lines()
    else:
        events.watch_files(kata.root / "stages" / stage.name, kata.root, poll)
    with cbreak(sys.stdin.fileno()) if keys else contextlib.nullcontext():
        if keys:
            events.read_keys(sys.stdin.fileno())
        # Only now say which keys work: entering cbreak mode flushes what was typed before
        # (tty.setcbreak uses TCSAFLUSH), so a key pressed on seeing the line earlier was lost.
        waiting()
        while True:
            event = events.next()
            if event.kind == "end" or event.value == "quit":
                events.stop()
                _echo("Stopped watching.")
                return
            if event.kind == "change":
                _echo(f"\n{time.strftime('%H:%M:%S')} changed: {', '.join(event.value) or 'files'}")
                run = _check_once(kata, stage, integration)
            elif event.value == "rerun":
                run = _check_once(kata, stage, integration, fresh=True)
            elif event.value == "hint":
                _watch_hint(kata, stage, run)
            elif event.value == "list":
                from kata.feedback import status_lines

                everything = _run(kata, kata.stages, "all stages", True, target="stages")
                latest.update({result.stage: result for result in everything.stages})
                _echo("")
                for line in status_lines(kata.root, kata.stages, everything, "stages"):
                    _echo(line)
            elif event.value == "next":
                later = [s for s in kata.stages if s.name > stage.name]
                if not run.stage(stage.name).done:
                    result = run.stage(stage.name)
                    _echo(f"\n{stage.name} is not done yet: {result.total - result.passed} to go. Finish it first.")
                elif not later:
                    _echo(f"\n{stage.name} was the last stage. Well done!")
                else:
                    stage = later[0]
                    _echo(f"\nOn to {stage.name}: read stages/{stage.name}/README.md.")
                    if not manual:
                        events.watch_files(kata.root / "stages" / stage.name, kata.root, poll)
                    run = _check_once(kata, stage, integration)
            waiting()


def _watch_hint(kata: Kata, stage: Stage, run: TestRun) -> None:
    from kata.feedback import pick_hint
    from kata.hints import HintsError, SeenHints, load_hints

    try:
        hints = load_hints(stage)
    except HintsError as error:
        _echo(f"\n{error}")
        return
    if run.stage(stage.name).done:
        _echo(f"\nEvery test of {stage.name} passes: no hint needed. A task's hints all the same: kata hint {short_name(stage)} TASK.")
        return
    seen = SeenHints(kata.root)
    chosen, _ = pick_hint(hints, seen.seen(stage.name), run.stage(stage.name))
    if chosen is None:
        _echo(f"\nYou have seen every hint for {stage.name}. A task's last hint again: kata hint {short_name(stage)} TASK.")
        return
    _show_hint(seen, stage, hints, chosen)


@main.command()
@click.argument("stage", type=STAGE, required=False)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="also write the review here (exercism's analysis.json format)")
@solutions_option
@click.pass_obj
def review(kata: Kata, stage: Stage | None, json_path: Path | None, solutions: bool) -> None:
    """What a mentor would say about your approach, beyond pass or fail.

    Reads the stage's workit/ (it runs no test and changes no file) and comments on what
    passes the tests but would hurt in production, with why and what to read. Always exits
    0. STAGE is 01, 1, 01_sync or sync; without it, the last stage whose steps are all
    written (before the first with a step left), else the first stage.
    """
    from kata.review import review_lines, review_stage, write_json

    target = _target(solutions, kata)
    if stage is None:
        from kata.project import todo_files

        stages = kata.stages
        writing = next((i for i, s in enumerate(stages) if any(f.steps for f in todo_files(kata.root, s))), len(stages))
        stage = stages[max(writing - 1, 0)]
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
def quiz(kata: Kata, stage: Stage | None, again: bool) -> None:
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


def _grading_config(kata: Kata, weights: Path | None, graded: list[Stage] | None = None) -> Any:
    """The stage weights (kata/grading.toml unless given), checked against the stages on disk,
    or, for `graded` stages, only that each of them has one."""
    from kata.grading import GradingError, check_weights, load_config, weights_path

    path = weights or weights_path(kata.root)
    try:
        config = load_config(path)
        check_weights(config, graded if graded is not None else kata.stages, path, every_weight=graded is None)
    except GradingError as error:
        raise click.ClickException(str(error)) from None
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
    kata: Kata,
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
    from kata.grading import GradingError, stage_scores, write_json
    from kata.grading import grade as grade_run

    target = _target(solutions, kata)
    chosen = list(stages) or kata.stages
    config = _grading_config(kata, weights, chosen)
    args = shlex.split(pytest_args) + (["--integration"] if integration else [])
    run = _run(kata, chosen, "grading", target=target, pytest_args=args, time_limit=time_limit)
    result = grade_run(kata.root, run, config)
    if json_path is not None:
        try:
            write_json(result, json_path, max_bytes)
        except GradingError as error:
            raise click.ClickException(str(error)) from None
    _echo("")
    _echo(f"  {'stage':<22}{'tests':>6}{'passed':>8}{'points':>16}")
    total, bonus_points = 0.0, 0.0
    for stage_name, count, passed, score, max_score in stage_scores(result, run.stages):
        total += score
        bonus_points += max_score if config.is_bonus(stage_name) else 0.0
        label = f"{stage_name} (bonus)" if config.is_bonus(stage_name) else stage_name
        _echo(f"  {label:<22}{count:>6}{passed:>8}{f'{score:.2f} / {max_score:g}':>16}")
    extra = f"  (bonus stages are extra credit: up to {bonus_points:g} more)" if bonus_points else ""
    core_max = result["max_score"]
    _echo(f"  {'total':<22}{'':>6}{'':>8}{f'{total:.2f} / {core_max:g}':>16}{extra}")
    errors = [test for test in result["tests"] if test["status"] == "error"]
    if errors:
        _echo("")
        _echo(click.style(f"{len(errors)} test(s) could not run:", fg="yellow"))
        grouped: dict[tuple[str, str], int] = {}
        for test in errors:
            key = (test["filename"] or test["name"], test["message"].splitlines()[0] if test["message"] else "")
            grouped[key] = grouped.get(key, 0) + 1
        for (where, why), count in list(grouped.items())[:10]:
            _echo(f"  {where} ({count}): {why}")
    _echo(f"\nstatus: {result['status']}" + (f" (written to {json_path})" if json_path else ""))
    if result["status"] != "pass":
        raise SystemExit(1)


@main.command()
@click.option("--check", "check_only", is_flag=True, help="do not write: exit 1 if the workflow file is not up to date")
@click.option("--partial-credit", is_flag=True, help="grade with `kata grade` (points per test) instead of the command grader (all or nothing per stage)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="where to write it; - for stdout (default: .github/workflows/classroom.yml)")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="points per stage (default: kata/grading.toml)")
@click.pass_obj
def workflow(kata: Kata, check_only: bool, partial_credit: bool, output: Path | None, weights: Path | None) -> None:
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
def export_command(kata: Kata, directory: Path, without_solutions: bool, git: bool) -> None:
    """Write a student template of the kata to DIRECTORY (new or empty).

    Without solutions/ (the default): also without the maintainers' self-check, its CI and
    the finished app's launchers; the README, Makefile and conftest.py are the learners'
    versions. Push the directory to a new repository and mark it a template for GitHub
    Classroom: its .github/workflows/classroom.yml grades every push.
    """
    from kata.export import ExportError, export, left_out

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
def selfcheck(kata: Kata, pytest_args: tuple[str, ...]) -> None:
    """Maintainers: prove every solution passes and every skeleton fails for the right reason.

    Extra arguments go to both pytest runs, e.g. `kata selfcheck --integration`.
    """
    from kata.giveaway import format_report, giveaway_reports
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
    from kata.giveaway import names_summary

    click.echo("\nThe library names handed over (kata giveaway --names):")
    click.echo("\n".join(names_summary(root, [], names=False)[0]))
    for verdict in verdicts:
        problems += [f"{verdict.stage}: {p}" for p in verdict.problems]
    click.echo(f"\nself-check took {time.monotonic() - started:.1f} s")
    checks = sum(v.solution_passing + v.skeleton_failing + v.given for v in verdicts)
    if problems:
        click.echo(f"\n{len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        click.echo(f"selfcheck: {checks} passed, {len(problems)} failed")
        raise SystemExit(1)
    click.echo("self-check passed: every solution passes, every skeleton fails as intended.")
    click.echo(f"selfcheck: {checks} passed, 0 failed")


@main.command()
@click.option("--check", is_flag=True, help="write nothing; exit 1 if a committed tree differs from the source")
@click.pass_obj
def generate(kata: Kata, check: bool) -> None:
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
def taskorder(kata: Kata, stages: tuple[Stage, ...], workers: int) -> None:
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
def giveaway(kata: Kata, stages: tuple[Stage, ...], names: bool) -> None:
    """Maintainers: the learner's lines that a stage's skeleton or README give away.

    The learner's lines are the solution minus the skeleton (no comments, docstrings,
    imports or short lines); one is given away when 80% of it stands there as one run.
    Exits 1 over the limits (15% in a stage, 10% in all), as the self-check does.
    With --names: the library names of those lines (methods, keyword arguments, decorators)
    that the README's code, the skeleton, the nudges or the tests' strings hand over, and the
    nudges that name one (kata/giveaway.py).
    """
    from kata.giveaway import format_report, giveaway_problems, giveaway_reports

    if not (kata.root / "solutions").is_dir():
        raise click.ClickException("This copy of the kata has no solutions/ (a student template): nothing to measure.")
    if names:
        from kata.giveaway import names_summary

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
def mutants(kata: Kata, stages: tuple[Stage, ...], workers: int) -> None:
    """Maintainers: run the mutation suite (solutions/NN_x/mutants.toml).

    Each mutant is a plausible wrong solution; the stage's tests, run as on a learner's
    code, must reject it by the expected test with a message that explains the mistake.
    Exits 1 on any survivor, stale mutant or wrong message.
    """
    from kata.mutants import MutantsError, format_table, run_mutants, summary_line

    if not (kata.root / "solutions").is_dir():
        raise click.ClickException("This copy of the kata has no solutions/ (a student template): no mutants to run.")
    started = time.monotonic()
    marks = {"killed": ".", "survived": "S", "stale": "?", "wrong message": "W"}
    names = [stage.name for stage in stages] or None
    try:
        verdicts = run_mutants(kata.root, names, workers, progress=lambda v: _echo(marks[v.status], nl=False))
    except MutantsError as error:
        raise click.ClickException(str(error)) from None
    _echo("")
    if not verdicts:
        raise click.ClickException("No mutants found: write solutions/NN_x/mutants.toml (see kata/mutants.py).")
    _echo(format_table(verdicts))
    bad = [v for v in verdicts if v.status != "killed"]
    for verdict in bad:
        _echo(f"  {verdict.status:<13} {verdict.mutant.stage}/{verdict.mutant.id}: {verdict.mutant.why}")
        _echo(f"                {verdict.detail}")
    slowest = max(verdicts, key=lambda v: v.seconds)
    _echo(f"\nmutants took {time.monotonic() - started:.1f} s ({workers} at a time; slowest {slowest.mutant.id}, {slowest.seconds:.1f} s)")
    _echo(summary_line(verdicts))
    _echo(f"mutants: {len(verdicts) - len(bad)} passed, {len(bad)} failed")
    if bad:
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
