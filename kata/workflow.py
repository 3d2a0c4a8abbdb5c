"""`.github/workflows/classroom.yml`, written from kata/grading.toml and the stages on disk.

GitHub Classroom's reporter wants the workflow named "Autograding Tests" with one job,
`run-autograding-tests`; each graded step has an `id`, and the reporter reads the step's
`result` from an environment variable `<ID>_RESULTS` listed in `runners`. The command grader
passes the command almost no environment (PATH and HOME), so every variable the tests need
is set inline in the command.

Two kinds of step:
- default: `classroom-resources/autograding-command-grader@v1`, one pytest run per stage,
  all of the stage's points or none;
- `--partial-credit`: a `run:` step per stage that calls `kata grade` and hands its JSON
  (the runner format) to the reporter, so each passing test earns its share.

What the real actions do (command grader v1 d5b3fa6, reporter v1 d13b591), and what follows:
- The grader runs the command with `execSync` through `/bin/sh` (dash: it forks) and, on
  its timeout, kills only that shell. So the command `exec`s coreutils `timeout`, which
  replaces the shell and stops the whole process group itself, before the grader would:
  SIGINT first, so that pytest tears its fixtures down (and the servers they started in
  sessions of their own), SIGKILL after a grace period. See `Limits`.
- The reporter fails as a whole, recording no points for any stage, when one runner's
  result is empty ("Unexpected end of JSON input"): a `kata grade` step always writes a
  result (an error result if `kata grade` wrote none), and the reporter's environment falls
  back to an error result for a step that left none (skipped, or stopped by its time limit).
- Steps after a failed one run (`!cancelled()`): a stage that cannot be graded leaves the
  other stages' points. A cancelled run records nothing rather than zero.
- The runner hands each step's result to the reporter's node process as one environment
  variable, `<ID>_RESULTS`, the result's JSON in base64 (4 bytes for every 3). Linux refuses
  to start a process with any one argument or environment string (`NAME=value` and its NUL)
  longer than MAX_ARG_STRLEN, 32 pages: 131,072 bytes, on GitHub's runners as anywhere
  ("Argument list too long"), and all of them together beyond ARG_MAX (a quarter of the
  stack limit: 2 MiB on GitHub's runners). Over either, node never starts and Classroom
  records nothing. So each step's `kata grade` gets `--max-bytes` (`result_bytes`: at most
  RESULT_BYTES, 64 KiB, and the steps together at most ALL_RESULTS_BYTES), and fits its
  result to it with less detail, never other points (kata/grading.py); the step replaces a
  result over it with an error result, so that the others are still recorded. 64 KiB of JSON
  is 87,382 bytes of base64: two thirds of MAX_ARG_STRLEN, however many stages grow. (The
  bonus stages all ride on one step: with every stage's tests in it, an untouched kata's
  result was 291,214 bytes of JSON, 388,288 of base64, before this limit.)

Bonus stages (grading.toml's `[bonus]`) are extra credit, which the reporter has no notion
of: it records the sum of every test's score over the sum of every runner's `max_score`,
and skips a runner whose max_score is 0, its score with it. So with `--partial-credit`
the bonus stages are graded in the step of the last core stage: one `kata grade` run whose
max_score is that core stage's points only, while the bonus tests add their scores
(`Points 145/85` for a learner who did everything, with four bonus stages), and whose status ignores a failing
bonus test (a learner who stops after the core stages gets a green run). The command
grader can only give a step all its max-score or nothing, so without `--partial-credit`
the bonus stages are left out of the workflow.

In the kata's own repository (where solutions/ exists) every step is skipped: the
skeleton is meant to fail. In a student template (`kata export`) they run.
"""

from __future__ import annotations

import base64
import json
import math
import shlex
from dataclasses import dataclass
from pathlib import Path

from kata.grading import GradingConfig, _number, error_result
from kata.layout import Stage

WORKFLOW_PATH = Path(".github") / "workflows" / "classroom.yml"
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
ONLY_IN_TEMPLATE = "hashFiles('solutions/**') == ''"
GRADED_IF = f"${{{{ !cancelled() && {ONLY_IN_TEMPLATE} }}}}"  # `!` may not start a YAML value
REDIS_URL = "redis://localhost:6379/0"

# What one step's result may weigh (see the module's docstring).
MAX_ARG_STRLEN = 32 * 4096  # Linux: bytes of one argument or environment string, its NUL included
ARG_MAX = 2 * 1024 * 1024  # Linux on GitHub's runners (8 MiB stack): all of them together
RESULT_BYTES = 64 * 1024  # bytes of JSON one step may hand the reporter
ALL_RESULTS_BYTES = 512 * 1024  # and all the steps together
MARGIN = 32 * 1024  # what one step's variable leaves of MAX_ARG_STRLEN, at least
LONGEST_ID = "stage" + "9" * 8  # an id longer than any the stages' numbers give


def base64_bytes(json_bytes: int) -> int:
    return 4 * math.ceil(json_bytes / 3)


def env_string_bytes(ident: str, json_bytes: int) -> int:
    """What `<ID>_RESULTS=<base64>` takes in the reporter's environment, its NUL included."""
    return len(f"{ident.upper()}_RESULTS=") + base64_bytes(json_bytes) + 1


# One step's variable stays MARGIN under MAX_ARG_STRLEN (87,405 of 131,072 bytes), whatever the
# number of stages or tests: the budget is per step, and `kata grade` keeps to it. All of them
# together (699,052 bytes of base64) leave more than half of ARG_MAX to the runner's own variables.
assert env_string_bytes(LONGEST_ID, RESULT_BYTES) <= MAX_ARG_STRLEN - MARGIN
assert base64_bytes(ALL_RESULTS_BYTES) <= ARG_MAX // 2


def result_bytes(steps: int) -> int:
    """The bytes of JSON each of `steps` graded steps may hand the reporter."""
    return min(RESULT_BYTES, ALL_RESULTS_BYTES // max(1, steps))


@dataclass(frozen=True)
class Limits:
    """How a stage's time (grading.toml's timeout_minutes, T; 300 s by default) is shared
    out, so that each bound fires before the one outside it and none leaves a process behind:

    - `grade` (240 s): `kata grade --timeout`, partial credit only: stops pytest and all it
      started (SIGINT, SIGTERM, SIGKILL to its process group) and still writes a result;
    - `hard` (270 s): coreutils `timeout -s INT` on the whole process group, then SIGKILL
      `kill_after` (15 s; at least 5, for pytest's teardown) later;
    - `grader_minutes` (5): the command grader's own `timeout`, which kills only the shell;
    - `step_minutes` (6): the step's `timeout-minutes`, the last resort.
    """

    grade: float
    hard: float
    kill_after: float
    grader_minutes: float
    step_minutes: int


def limits(config: GradingConfig) -> Limits:
    total = config.timeout_minutes * 60
    kill_after = min(15.0, max(5.0, total * 0.05))
    hard = total * 0.95 - kill_after
    grade = hard - 2 * kill_after
    assert grade > 0, f"timeout_minutes = {config.timeout_minutes:g} leaves no time to grade (load_config wants 0.3 at least)"
    return Limits(round(grade, 2), round(hard, 2), round(kill_after, 2), config.timeout_minutes, math.ceil(config.timeout_minutes) + 1)


def _seconds(value: float) -> str:
    return f"{value:g}"


def bounded(command: str, config: GradingConfig) -> str:
    """`command` under coreutils `timeout`: SIGINT to its process group after `hard`
    seconds, SIGKILL `kill_after` seconds later."""
    bound = limits(config)
    return f"timeout -s INT -k {_seconds(bound.kill_after)} {_seconds(bound.hard)} {command}"


def step_id(stage: Stage) -> str:
    """`stage01`: letters and digits only (the reporter upper-cases it into an env name)."""
    return "stage" + "".join(ch for ch in stage.name.split("_", 1)[0] if ch.isalnum())


def stage_command(stage: Stage, config: GradingConfig) -> str:
    """The default variant's command: pytest, `exec`ed under `timeout` (see `Limits`)."""
    env = "KATA_TARGET=stages"
    if config.integration:
        env += f" KATA_INTEGRATION=1 REDIS_URL={REDIS_URL}"
    return f"{env} exec {bounded(f'python -m pytest stages/{stage.name} -q -p no:cacheprovider', config)}"


@dataclass(frozen=True)
class Step:
    """One graded step: a core stage, and with partial credit the bonus stages that ride on
    the last core stage's step (see the module's docstring)."""

    stage: Stage
    bonus: tuple[Stage, ...] = ()

    @property
    def ident(self) -> str:
        return step_id(self.stage)

    @property
    def name(self) -> str:
        return " + bonus ".join([self.stage.name, " ".join(stage.name for stage in self.bonus)]) if self.bonus else self.stage.name

    @property
    def stage_names(self) -> str:
        return " ".join(stage.name for stage in (self.stage, *self.bonus))


def graded_steps(stages: list[Stage], config: GradingConfig, partial_credit: bool) -> list[Step]:
    core = [Step(stage) for stage in stages if not config.is_bonus(stage.name)]
    bonus = tuple(stage for stage in stages if config.is_bonus(stage.name))
    if partial_credit and bonus and core:
        core[-1] = Step(core[-1].stage, bonus)
    return core


def _json_line(result: dict) -> str:
    return shlex.quote(json.dumps(result, separators=(",", ":")))


def grade_script(step: Step, config: GradingConfig, max_bytes: int = RESULT_BYTES) -> list[str]:
    """The partial-credit step's script: `kata grade` under `timeout`, then its result (at most
    `max_bytes`), or an error result when it wrote none or a larger one, as the step's output
    `result`."""
    ident, bound = step.ident, limits(config)
    out = f"grade-{ident}.json"
    integration = " --integration" if config.integration else ""
    env = f"REDIS_URL={REDIS_URL} " if config.integration else ""
    grade = (
        f"python -m kata grade {step.stage_names}{integration} --timeout {_seconds(bound.grade)}"
        f" --max-bytes {max_bytes} --json {out}"
    )
    points = config.weights[step.stage.name]
    missing = error_result(step.name, points, f"kata grade wrote no result for {step.name}: see the log of this step")
    too_large = error_result(
        step.name, points, f"kata grade wrote a result over {max_bytes} bytes for {step.name}, more than the reporter can be given"
    )
    return [
        f"rm -f {out}",
        f"{env}{bounded(grade, config)} || true",
        f"[ -s {out} ] || printf '%s\\n' {_json_line(missing)} > {out}",
        f"[ \"$(wc -c < {out})\" -le {max_bytes} ] || printf '%s\\n' {_json_line(too_large)} > {out}",
        f'echo "result=$(base64 -w0 {out})" >> "$GITHUB_OUTPUT"',
    ]


def missing_result(step: Step, config: GradingConfig) -> str:
    """What the reporter reads for a step that left no result: an error result, base64."""
    result = error_result(
        step.name,
        config.weights[step.stage.name],
        f"the {step.name} step left no result: it was skipped, or stopped by its time limit (see its log)",
    )
    return base64.b64encode(json.dumps(result, separators=(",", ":")).encode()).decode()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render(stages: list[Stage], config: GradingConfig, partial_credit: bool = False) -> str:
    steps = graded_steps(stages, config, partial_credit)
    bonus = [stage.name for stage in stages if config.is_bonus(stage.name)]
    if not bonus:
        extra = []
    elif partial_credit:
        extra = [f"# Bonus stages ({', '.join(bonus)}) are extra credit, graded in the last core stage's step."]
    else:
        extra = [
            f"# Bonus stages ({', '.join(bonus)}) are left out: the command grader has no extra credit",
            "# (`python -m kata workflow --partial-credit` grades them as extra credit).",
        ]
    package = "'.[stack]'" if config.integration else "."
    bound = limits(config)
    lines = [
        "# Generated by `python -m kata workflow` from kata/grading.toml: edit that file and run",
        "# the command again (a test checks the two match). GitHub Classroom needs this name and",
        "# this one job. In the kata's own repository (it has solutions/) every step is skipped.",
        "# Each stage's command stops itself (and all it started) before the grader's timeout;",
        "# later steps and the reporter run even when a step failed: see kata/workflow.py.",
        *extra,
        "name: Autograding Tests",
        "'on':",
        "  push:",
        "  repository_dispatch:",
        "  workflow_dispatch:",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
    ]
    if config.integration:
        lines += [
            "    services:",
            "      redis:",
            "        image: redis:7",
            "        ports:",
            "        - 6379:6379",
            "        options: >-",
            "          --health-cmd \"redis-cli ping\" --health-interval 2s --health-timeout 2s --health-retries 15",
        ]
    lines += [
        "    steps:",
        "    - name: Checkout code",
        "      uses: actions/checkout@v4",
        "    - name: Set up Python",
        f"      if: {ONLY_IN_TEMPLATE}",
        "      uses: actions/setup-python@v5",
        "      with:",
        f"        python-version: {_quote(config.python)}",
        "    - name: Install the kata",
        f"      if: {ONLY_IN_TEMPLATE}",
        f"      run: python -m pip install --quiet -c constraints.txt -e {package}",
    ]
    for step in steps:
        stage, points = step.stage, _number(config.weights[step.stage.name])
        lines += [
            f"    - name: {step.name}",
            f"      id: {step.ident}",
            f"      if: {GRADED_IF}",
            f"      timeout-minutes: {bound.step_minutes}",
        ]
        if partial_credit:
            script = grade_script(step, config, result_bytes(len(steps)))
            lines += ["      run: |", *[f"        {line}" for line in script]]
        else:
            lines += [
                f"      uses: {COMMAND_GRADER}",
                "      with:",
                f"        test-name: {stage.name}",
                "        setup-command: ''",
                f"        command: {_quote(stage_command(stage, config))}",
                f"        timeout: {_seconds(bound.grader_minutes)}",
                f"        max-score: {points}",
            ]
    lines += [
        "    - name: Autograding Reporter",
        f"      if: {GRADED_IF}",
        f"      uses: {REPORTER}",
        "      env:",
        *[
            f"        {step.ident.upper()}_RESULTS: \"${{{{ steps.{step.ident}.outputs.result || '{missing_result(step, config)}' }}}}\""
            for step in steps
        ],
        "      with:",
        f"        runners: {','.join(step.ident for step in steps)}",
    ]
    return "\n".join(lines) + "\n"
