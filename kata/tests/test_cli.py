"""The learner commands, run against temporary copies of the kata: the untouched skeleton,
and a fully solved copy (solutions/NN_x/workit copied over stages/NN_x/workit).

Each copy is made once per module; the commands spawn pytest in it, as a learner's would.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kata.cli import main
from kata.hints import SeenHints, load_hints
from kata.layout import Stage, all_stages
from kata.project import KataError, find_root, resolve_stage

# These tests run whole pytest sessions in subprocesses (kata status runs every stage): on a
# busy machine (two CPU-bound processes on two cores) one takes well over pytest-timeout's
# 20 s. Their own waits (communicate(timeout=...), read_until) still catch a hang.
pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
COPIED = ["stages", "solutions", "kata", "conftest.py", "pyproject.toml", "README.md", "Makefile", "constraints.txt", ".gitignore"]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "tests", ".kata")


def copy_kata(destination: Path, solved: bool = False) -> Path:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            # kata/tests is the machinery's own tests: not needed, and not a stage's tests
            ignore = IGNORED if name == "kata" else shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
            shutil.copytree(source, destination / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, destination / name)
    if solved:
        for stage in all_stages(destination):
            solution = destination / "solutions" / stage.name / "workit"
            if solution.is_dir():
                target = destination / "stages" / stage.name / "workit"
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(solution, target)
    return destination


@pytest.fixture(autouse=True)
def learner_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KATA_INTEGRATION", "KATA_TARGET", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def skeleton(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_kata(tmp_path_factory.mktemp("skeleton"))


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_kata(tmp_path_factory.mktemp("solved"), solved=True)


def collected(root: Path, path: str) -> list[str]:
    """The test ids pytest collects under `path` in a copy of the kata."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", path],
        cwd=root, capture_output=True, text=True, check=False,
    ).stdout
    return [line for line in listing.splitlines() if "::" in line]


def kata(root: Path, *args: str, input: str | None = None, color: bool = False) -> Result:
    return CliRunner().invoke(main, ["--root", str(root), *args], input=input, color=color)


def stage_names() -> list[str]:
    return [stage.name for stage in all_stages(ROOT)]


def row(output: str, stage: str) -> str:
    """The status table's line for a stage."""
    return next(line for line in output.splitlines() if line.startswith(f"  {stage} "))


# --- finding the kata and its stages ------------------------------------------------------


def test_the_kata_is_found_from_any_directory_inside_it(skeleton: Path) -> None:
    assert find_root(skeleton / "stages" / "02_redis" / "workit") == skeleton.resolve()
    assert find_root(ROOT / "kata") == ROOT


@pytest.mark.parametrize("text", ["03", "3", "03_worker", "worker", "WORKER", "stages/03_worker/"])
def test_a_stage_can_be_named_many_ways(text: str) -> None:
    assert resolve_stage(ROOT, text).name == "03_worker"


def test_a_bad_stage_lists_the_valid_ones(skeleton: Path) -> None:
    with pytest.raises(KataError, match=re.escape("There is no stage '99'. The stages are: 01_sync, 02_redis")):
        resolve_stage(ROOT, "99")
    result = kata(skeleton, "check", "nope")
    assert result.exit_code == 2 and "There is no stage 'nope'" in result.output and "01_sync" in result.output


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, skeleton: Path) -> Path:
    destination = tmp_path_factory.mktemp("exported") / "template"
    result = kata(skeleton, "export", str(destination), "--without-solutions")
    assert result.exit_code == 0, result.output
    return destination


# --- status -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def status_runs(solved: Path, template: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """`kata status` on a fresh skeleton (the student template exported from the skeleton
    copy, run from a subdirectory without --root, as a learner would) and on the solved
    copy, side by side: two pytest runs at once."""
    commands = {
        "skeleton": ([sys.executable, "-m", "kata"], template / "stages" / "01_sync"),
        "solved": ([sys.executable, "-m", "kata", "status"], solved),
    }
    env = {k: v for k, v in os.environ.items() if k not in ("KATA_INTEGRATION", "KATA_TARGET", "PYTEST_ADDOPTS")}
    started = {
        name: subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (command, cwd) in commands.items()
    }
    finished = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=180)
        finished[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return finished


def test_status_on_the_skeleton_shows_every_stage_the_next_step_and_the_todos(
    status_runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = status_runs["skeleton"]
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    for name in stage_names():
        assert name in out
    assert "to do" in row(out, "01_sync") and "<- next" in row(out, "01_sync")
    assert "to do" in row(out, "02_redis") and "<- next" not in row(out, "02_redis")
    assert "Next: stage 01_sync" in out and "kata check 01" in out and "pytest stages/01_sync" in out
    assert "stages/01_sync/workit/notifier.py" in out and "to write" in out
    assert "\x1b[" not in out, "no colour codes when the output is not a terminal"


def test_status_on_a_solved_copy_says_all_done_and_exits_0(status_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = status_runs["solved"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"All {len(stage_names())} stages done" in done.stdout
    for name in stage_names():
        assert "done" in row(done.stdout, name) and "to do" not in row(done.stdout, name)
    assert "to write" not in done.stdout


# --- check --------------------------------------------------------------------------------


def test_check_shows_the_first_failure_first_with_its_hint(skeleton: Path) -> None:
    result = kata(skeleton, "check", "1")
    out = result.output
    first_task = load_hints(Stage(skeleton, "01_sync"))[0]
    assert result.exit_code == 1
    assert "tests pass" in out and "to go" in out
    failure = next(line for line in out.splitlines() if line.startswith("First failure: "))
    assert first_task.matches(failure.removeprefix("First failure: ").strip()), "the first failure is task 1's"
    assert "not written yet: Step 01_sync, task 1: " in out
    assert "in   stages/01_sync/workit/" in out
    assert "Task 1, hint 1 of" in out and "(a nudge)" in out and first_task.text.splitlines()[0] in out
    assert "Also failing" in out and "kata check 01 --all" in out
    assert SeenHints(skeleton).seen("01_sync") == [], "the nudge check shows unasked is not counted as seen"


@pytest.mark.timeout(180)  # several kata runs, each a pytest run: slow on a busy machine
def test_check_without_a_stage_runs_only_the_stage_being_written(tmp_path: Path) -> None:
    partly = copy_kata(tmp_path / "partly", solved=True)
    shutil.rmtree(partly / "stages" / "02_redis" / "workit")
    shutil.copytree(ROOT / "stages" / "02_redis" / "workit", partly / "stages" / "02_redis" / "workit")
    result = kata(partly, "check")
    assert result.exit_code == 1
    assert "checking 02_redis" in result.output and "all stages" not in result.output
    ran = int(re.search(r"of (\d+) tests pass", result.output).group(1))
    assert ran == len(collected(partly, "stages/02_redis")), "only stage 02's tests ran"


@pytest.mark.timeout(180)  # several kata runs, each a pytest run: slow on a busy machine
def test_check_reuses_the_last_result_until_a_file_changes(tmp_path: Path) -> None:
    copy = copy_kata(tmp_path / "copy")
    first = kata(copy, "check", "02")
    again = kata(copy, "check", "02")
    assert "checking 02_redis" in first.output and "nothing changed" not in first.output
    assert "02_redis: nothing changed since the last run, not run again" in again.output
    assert "checking 02_redis" not in again.output and again.exit_code == first.exit_code == 1
    summary = [line for line in first.output.splitlines() if "tests pass" in line]
    assert summary and summary == [line for line in again.output.splitlines() if "tests pass" in line]
    shutil.copy2(copy / "solutions" / "02_redis" / "workit" / "jobs.py", copy / "stages" / "02_redis" / "workit" / "jobs.py")
    edited = kata(copy, "check", "02")
    assert "checking 02_redis" in edited.output, "a changed file reruns the stage"
    assert [line for line in edited.output.splitlines() if "tests pass" in line] != summary


def test_check_on_a_solved_stage_says_done_and_what_comes_next(solved: Path) -> None:
    result = kata(solved, "check", "redis")
    assert result.exit_code == 0, result.output
    assert "pass. Stage done!" in result.output and "Next: stage 03_worker" in result.output


# --- hint ---------------------------------------------------------------------------------


def test_hints_come_one_level_more_each_time_and_by_task(skeleton: Path) -> None:
    (skeleton / ".kata" / "hints-seen.json").unlink(missing_ok=True)
    hints = load_hints(Stage(skeleton, "02_redis"))
    tasks = max(hint.task for hint in hints)
    first = kata(skeleton, "hint", "02", "--no-run")
    second = kata(skeleton, "hint", "02", "--no-run")
    assert f"Task 1, hint 1 of {hints[0].levels} (a nudge) for 02_redis" in first.output
    assert hints[0].text.splitlines()[0] in first.output and "gives the API" in first.output
    assert f"Task 1, hint 2 of {hints[0].levels} (the API) for 02_redis" in second.output
    last_task = [hint for hint in hints if hint.task == tasks]
    by_task = kata(skeleton, "hint", "redis", str(tasks))
    assert f"Task {tasks}, hint 1 of {last_task[0].levels}" in by_task.output, "a task's first unseen level"
    for _ in range(len(hints) - 3):
        kata(skeleton, "hint", "02", "--no-run")
    done = kata(skeleton, "hint", "02", "--no-run")
    assert done.exit_code == 0 and f"You have seen every hint for 02_redis, all {len(hints)}" in done.output
    assert "kata diff 02" in done.output
    again = kata(skeleton, "hint", "02", str(tasks))
    assert f"Task {tasks}, hint {last_task[-1].level} of {last_task[-1].levels}" in again.output, "all seen: the last level again"
    too_far = kata(skeleton, "hint", "02", str(tasks + 1))
    assert too_far.exit_code == 1 and f"02_redis has {tasks} tasks: ask for 1 to {tasks}" in too_far.output


def test_a_hint_for_a_stage_that_passes_is_neither_given_nor_counted(solved: Path) -> None:
    before = SeenHints(solved).seen("02_redis")
    result = kata(solved, "hint", "02")
    assert result.exit_code == 0, result.output
    assert "Every test of 02_redis passes: no hint needed" in result.output and "hint 1 of" not in result.output
    assert SeenHints(solved).seen("02_redis") == before


def test_hints_for_the_failing_tests_come_first(tmp_path: Path) -> None:
    partly = copy_kata(tmp_path / "partly")
    giphy = "stages/01_sync/workit/giphy.py"
    shutil.copy2(partly / giphy.replace("stages", "solutions"), partly / giphy)
    result = kata(partly, "hint", "01")
    assert result.exit_code == 0, result.output
    shown = int(re.search(r"Task (\d+), hint 1 of", result.output).group(1))
    giphy_tasks = {hint.task for hint in load_hints(Stage(partly, "01_sync")) if all("test_giphy" in t for t in hint.tests)}
    assert giphy_tasks and shown not in giphy_tasks, "test_giphy.py passes: the first hint is for a task that fails"


# --- diff ---------------------------------------------------------------------------------


def test_diff_compares_with_the_solution_plain_when_piped_coloured_on_request(skeleton: Path, solved: Path) -> None:
    plain = kata(skeleton, "diff", "01")
    assert plain.exit_code == 0
    assert "--- stages/01_sync/workit/giphy.py (yours)" in plain.output
    assert "+++ solutions/01_sync/workit/giphy.py (reference)" in plain.output
    assert any(line.startswith("-    raise NotImplementedError(") for line in plain.output.splitlines())
    assert "\x1b[" not in plain.output
    coloured = kata(skeleton, "--color", "diff", "01", color=True)
    assert "\x1b[32m+" in coloured.output and "\x1b[31m-" in coloured.output
    same = kata(solved, "diff", "01")
    assert same.exit_code == 0 and "is the same as solutions/01_sync/workit" in same.output


# --- reset --------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    return subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True, text=True).stdout


def test_reset_puts_the_skeleton_back_after_asking(tmp_path: Path) -> None:
    root = copy_kata(tmp_path / "kata")
    outside = kata(root, "reset", "01", "--yes")
    assert outside.exit_code == 1 and "is not a git checkout" in outside.output
    git(root, "init", "-q")
    git(root, "add", "stages", "conftest.py", "pyproject.toml")
    git(root, "commit", "-q", "-m", "template")
    giphy = root / "stages" / "01_sync" / "workit" / "giphy.py"
    skeleton_text = giphy.read_text()
    giphy.write_text("# my work\n")
    refused = kata(root, "reset", "01", input="n\n")
    assert refused.exit_code == 1 and "stages/01_sync/workit/giphy.py" in refused.output
    assert giphy.read_text() == "# my work\n"
    accepted = kata(root, "reset", "sync", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert giphy.read_text() == skeleton_text
    backups = list((root / ".kata" / "backup").glob("01_sync-*/stages/01_sync/workit/giphy.py"))
    assert [b.read_text() for b in backups] == ["# my work\n"]
    # committed work: HEAD has it; --first goes back to the template's first commit
    giphy.write_text("# committed work\n")
    git(root, "commit", "-q", "-am", "my work")
    assert "already matches HEAD" in kata(root, "reset", "01", "--yes").output
    if (root / "solutions").is_dir():  # the kata's own repository: its first commit is a draft
        refused_first = kata(root, "reset", "01", "--first", "--yes")
        assert refused_first.exit_code == 1 and "student template" in refused_first.output
        shutil.rmtree(root / "solutions")
    first = kata(root, "reset", "01", "--first", "--yes")
    assert first.exit_code == 0 and giphy.read_text() == skeleton_text


# --- watch --------------------------------------------------------------------------------


def test_watch_manual_waits_for_enter_and_stops_at_end_of_input(solved: Path) -> None:
    result = kata(solved, "watch", "02", "--manual", input="")
    assert result.exit_code == 0, result.output
    assert result.output.count("Stage done!") == 1
    assert "Press Enter to check 02_redis again" in result.output and result.output.rstrip().endswith("Stopped watching.")


def test_watch_reruns_the_check_on_save_and_ctrl_c_stops_it(solved: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kata", "watch", "01"],
        cwd=solved, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    seen: list[str] = []

    def read_until(text: str, timeout: float = 120) -> None:  # each check is a pytest run
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            seen.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} in:\n{''.join(seen)}")

    changed = threading.Event()

    def save_until_seen() -> None:  # the watcher starts just after it says so: save until it sees
        views = solved / "stages" / "01_sync" / "workit" / "views.py"
        while not changed.wait(0.3):
            views.write_text(views.read_text())

    try:
        read_until("Watching stages/01_sync for changes")
        saver = threading.Thread(target=save_until_seen, daemon=True)
        saver.start()
        read_until("changed: stages/01_sync/workit/views.py")
        changed.set()
        read_until("Watching stages/01_sync for changes")
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)  # a check under way finishes first
    finally:
        changed.set()
        if process.poll() is None:
            process.kill()
    output = "".join(seen) + rest
    assert output.count("Stage done!") == 2
    assert process.returncode == 0 and "Stopped watching." in rest and "Traceback" not in output


# --- export -------------------------------------------------------------------------------


def test_export_leaves_out_solutions_and_what_needs_them(template: Path) -> None:
    assert not (template / "solutions").exists() and not (template / "kata" / "tests").exists()
    assert (template / "stages" / "01_sync" / "hints.toml").is_file()
    assert all((template / "stages" / stage / "quiz.toml").is_file() for stage in stage_names()), "kata quiz needs its answers"
    assert "<details>" not in (template / "stages" / "01_sync" / "README.md").read_text()
    assert (template / "kata" / "cli.py").is_file()
    readme = (template / "README.md").read_text()
    assert "## For learners" in readme and "kata status" in readme
    assert "For maintainers" not in readme and "For instructors" not in readme
    assert "--solutions" not in readme and "solutions/" not in readme and "kata diff" not in readme
    assert "--solutions" not in (template / "stages" / "01_sync" / "README.md").read_text()
    assert "kata status" in (template / "Makefile").read_text() and "selfcheck" not in (template / "Makefile").read_text()


def test_in_the_template_status_works_and_solutions_are_a_clear_error(
    template: Path, status_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    done = status_runs["skeleton"]  # run in the template
    assert done.returncode == 1 and "Next: stage 01_sync" in done.stdout, done.stdout + done.stderr
    asked = subprocess.run(
        [sys.executable, "-m", "pytest", "stages/01_sync", "--solutions", "-q", "-p", "no:cacheprovider"],
        check=False, cwd=template, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert asked.returncode == 4, asked.stdout + asked.stderr
    assert "student template: it has no solutions/" in asked.stderr and "Traceback" not in asked.stderr
    for command in (["diff", "01"], ["selfcheck"], ["status", "--solutions"]):
        result = kata(template, *command)
        assert result.exit_code == 1 and "no solutions/" in result.output, (command, result.output)


@pytest.mark.timeout(240)  # kata status runs every stage
def test_make_test_in_the_template_says_where_to_start_without_a_make_error(template: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (venv / "bin" / "python").chmod(0o755)
    (venv / ".kata-installed").touch()  # newer than pyproject.toml and constraints.txt: no install
    done = subprocess.run(["make", "test", f"VENV={venv}"], check=False, cwd=template, capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Next: stage 01_sync" in done.stdout and "not a failed set-up" in done.stdout
    assert "Error 1" not in done.stdout + done.stderr


def test_export_refuses_a_directory_that_is_not_empty(skeleton: Path, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    result = kata(skeleton, "export", str(tmp_path / "full"))
    assert result.exit_code == 1 and "is not empty" in result.output
