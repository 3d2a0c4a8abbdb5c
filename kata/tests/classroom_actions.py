"""GitHub Classroom's two autograding actions, re-told in Python for the tests, from their source:

- classroom-resources/autograding-command-grader v1, commit d5b3fa6 (src/main.js);
- classroom-resources/autograding-grading-reporter v1, commit d13b591 (src/main.js,
  src/console-results.js, src/aggregate-results.js, src/notify-classroom.js,
  src/helpers/test-helpers.js);

the reporter's released JavaScript itself, started with node as the runner starts it
(`node_reporter`; the retelling must agree with it), and as much of a GitHub Actions job as
the Classroom workflow uses: steps in order, `if:`
with the status functions, `timeout-minutes`, `${{ steps.X.outputs.Y || 'literal' }}` and
$GITHUB_OUTPUT. Python's floats are the IEEE doubles of JavaScript's numbers and are added
here in the reporter's order, so the totals are the reporter's to the last digit (checked
against the real reporter under node 20 when this was written).

The rules that matter:
- grader: runs `command` with `execSync` through `/bin/sh`, with only PATH, HOME,
  FORCE_COLOR and two dotnet variables; `timeout` is in minutes (parseFloat) and on it
  only the shell gets SIGTERM; `max-score` goes through parseInt; exit 0 is "pass" with
  all the points, another exit "fail", the timeout "error". Its output `result` is base64
  JSON {version: 1, status, max_score, tests: [one test]}.
- reporter: reads `<RUNNER>_RESULTS` (base64 JSON) for each name in `runners`; one that is
  missing or not JSON fails it before anything is recorded. Its table scores a runner as
  (tests with status "pass" / all its tests) x max_score; the notice Classroom records,
  "Points total/max", adds every test's `score` of every runner with a max_score. A runner
  with status "fail" or "error" fails the step (after the notice).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import re
import signal
import subprocess
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
# The reporter's dist/main.js at d13b591 (v1), unchanged: its README says where from.
REPORTER_JS = Path(__file__).parent / "actions" / "autograding-grading-reporter" / "main.js"
REPORTER_JS_BLOB = "92b9890de8ecb8794300cd2c2ba8b2d509d90258"  # its git blob id upstream
SAFETY_SECONDS = 120  # how long to wait for a killed shell before giving up on it (node would wait forever)


# --- JavaScript's numbers as text -------------------------------------------------------


def js_string(value: float) -> str:
    """`${value}` in JavaScript, for the numbers a grade holds."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(float(value))  # both print the shortest digits that read back the same double
    return format(Decimal(text), "f") if "e" in text else text


def js_to_fixed(value: float, digits: int) -> str:
    """`value.toFixed(digits)`: the exact double, rounded half up (Python's format rounds half to even)."""
    if math.isnan(value):
        return "NaN"
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def js_parse_int(text: str) -> float:
    match = re.match(r"\s*([+-]?\d+)", str(text))
    return int(match.group(1)) if match else math.nan


def js_parse_float(text: str) -> float:
    match = re.match(r"\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", str(text))
    return float(match.group(1)) if match else math.nan


# --- the command grader ------------------------------------------------------------------


def _default_signals() -> None:
    """What libuv does in a child before exec: every signal back to its default disposition
    (a test runner started in the background may have SIGINT ignored)."""
    for number in range(1, signal.NSIG):
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, signal.SIG_DFL)


def grader_env(path: str) -> dict[str, str]:
    return {"PATH": path, "FORCE_COLOR": "true", "DOTNET_CLI_HOME": "/tmp", "DOTNET_NOLOGO": "true", "HOME": os.environ.get("HOME", "/tmp")}


def command_grader(inputs: dict[str, Any], cwd: Path, path: str, log: Path) -> str:
    """The grader's `result` output for one step's `with:` inputs."""
    test_name = str(inputs["test-name"])
    setup, command = str(inputs.get("setup-command") or ""), str(inputs["command"])
    timeout_ms = js_parse_float(str(inputs.get("timeout") or 10)) * 60000
    max_score = js_parse_int(str(inputs.get("max-score") or 0))
    env = grader_env(path)
    message: str | None
    try:
        if setup:
            _exec_sync(setup, timeout_ms, env, cwd, log)
        _exec_sync(command, timeout_ms, env, cwd, log)
        status, message = "pass", None  # execSync(..., {stdio: 'inherit'}) returns null: no message
    except _ExecError as error:
        if "ETIMEDOUT" in str(error):
            status, message = "error", "Command timed out"
        elif "command not found" in str(error):
            status, message = "error", f"Unable to locate executable file: {command}"
        elif "Command failed" in str(error):
            status, message = "fail", "failed with exit code 1"
        else:
            status, message = "error", str(error)
    test: dict[str, Any] = {"name": test_name, "status": status, "score": max_score if status == "pass" else 0}
    if message is not None:
        test["message"] = message
    test.update({"test_code": command, "filename": "", "line_no": 0, "duration": 0})
    result = {"version": 1, "status": status, "max_score": max_score, "tests": [test]}
    return base64.b64encode(json.dumps(result).encode()).decode()


class _ExecError(Exception):
    pass


def _exec_sync(command: str, timeout_ms: float, env: dict[str, str], cwd: Path, log: Path) -> None:
    """node's execSync: spawnSync('/bin/sh', ['-c', command]) in node's own process group;
    on the timeout SIGTERM to the shell alone, then wait for the shell to exit."""
    with open(log, "ab") as out:
        shell = subprocess.Popen(
            ["/bin/sh", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_default_signals,  # noqa: PLW1509 - only the child can reset its signals before exec, as the runner does
        )  # fmt: skip
    try:
        code = shell.wait(timeout_ms / 1000)
    except subprocess.TimeoutExpired:
        shell.send_signal(signal.SIGTERM)
        try:
            shell.wait(SAFETY_SECONDS)
        except subprocess.TimeoutExpired:
            shell.kill()
            raise AssertionError(f"/bin/sh ignored SIGTERM: node would wait for it forever ({command})") from None
        raise _ExecError("spawnSync /bin/sh ETIMEDOUT") from None
    if code != 0:
        raise _ExecError(f"Command failed: {command}")


# --- the reporter ------------------------------------------------------------------------


@dataclass
class Report:
    """What the reporter printed and recorded."""

    lines: list[str] = field(default_factory=list)  # "Total points for stage01: 2.00/20", ...
    table: list[tuple[str, float, float]] = field(default_factory=list)  # (runner, score, max)
    table_total: str = ""  # the table's "Total:" row, as JavaScript prints the number
    notice: str | None = None  # "Points 57/100": what Classroom records
    total_points: float = 0.0
    max_points: float = 0.0
    failed: str | None = None  # core.setFailed's message


def _pass_share(results: dict[str, Any]) -> float:
    """getTestScore: passing tests over all tests, times the runner's max_score."""
    tests = results["tests"]
    passed = sum(1 for test in tests if test.get("status") == "pass")
    maximum = results.get("max_score") or 0
    return passed / len(tests) * maximum if tests else math.nan


def reporter(runners: str, env: dict[str, str]) -> Report:
    report = Report()
    try:
        runner_results = []
        for runner in runners.strip().split(","):
            encoded = env.get(f"{runner.strip().upper()}_RESULTS")
            if encoded is None:
                raise ValueError('The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received undefined')
            text = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
            if not text.strip():
                raise ValueError("Unexpected end of JSON input")
            try:
                runner_results.append((runner, json.loads(text)))
            except json.JSONDecodeError as error:
                raise ValueError(f"Unexpected token in JSON: {error}") from None
        # ConsoleResults
        for runner, results in runner_results:
            maximum = results.get("max_score") or 0
            score = _pass_share(results)
            if maximum != 0:
                report.lines.append(f"Total points for {runner}: {js_to_fixed(score, 2)}/{js_string(maximum)}")
        # AggregateResults: the table
        total = 0.0
        for runner, results in runner_results:
            score = _pass_share(results)
            report.table.append((runner.strip(), score, results.get("max_score") or 0))
            total += score
        report.table_total = js_string(total)
        # NotifyClassroom: the notice
        points, maximum = 0.0, 0.0
        for _, results in runner_results:
            if not results.get("max_score"):
                continue
            maximum += results["max_score"]
            for test in results["tests"]:
                points += test.get("score", math.nan)
        if maximum:
            report.notice = f"Points {js_string(points)}/{js_string(maximum)}"
            report.total_points, report.max_points = points, maximum
        if any(results.get("status") == "fail" for _, results in runner_results):
            report.failed = "Some tests failed."
        elif any(results.get("status") == "error" for _, results in runner_results):
            report.failed = "Some tests errored."
    except ValueError as error:
        report.failed = str(error)
    return report


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ROW = re.compile(r"^│ (.+?)\s*│ (.+?)\s*│ (.+?)\s*│$")


def node_reporter(node: str, runners: str, env: dict[str, str], log: Path | None = None) -> Report:
    """The real reporter: its main.js under `node`, with the step's `env:` and its `runners`
    input as the runner gives them (the whole environment of one process: an environment
    string over Linux's MAX_ARG_STRLEN makes starting it fail with E2BIG, as on GitHub).
    Read back from what it prints: the lines, the table, the notice, the failure."""
    process_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
                   "CI": "true", "GITHUB_ACTIONS": "true", "INPUT_RUNNERS": runners, "INPUT_TOKEN": "unused", **env}  # fmt: skip
    done = subprocess.run([node, str(REPORTER_JS)], env=process_env, capture_output=True, text=True, timeout=60, check=False)
    if log is not None:
        log.write_text(done.stdout + done.stderr)
    report = Report()
    for line in _ANSI.sub("", done.stdout).splitlines():
        row = _ROW.match(line)
        if line.startswith("Total points for "):
            report.lines.append(line)
        elif line.startswith("::notice title=Autograding complete::"):
            report.notice = line.split("::", 2)[2]
        elif line.startswith("::notice title=Autograding report::"):
            summary = json.loads(line.split("::", 2)[2])
            report.total_points, report.max_points = summary["totalPoints"], summary["maxPoints"]
        elif line.startswith("::error::"):
            report.failed = line[len("::error::") :]
        elif row and row.group(1) == "Total:":
            report.table_total = row.group(2)
        elif row and row.group(1) != "Test Runner Name":  # a number too wide for its column ends in …
            report.table.append((row.group(1), float(row.group(2).rstrip("…")), float(row.group(3).rstrip("…"))))
    if done.returncode != 0 and report.failed is None:
        raise AssertionError(f"the reporter failed without saying why (exit {done.returncode}): {done.stderr}")
    return report


def agree(retold: Report, real: Report) -> None:
    """The retelling says what the real reporter says: lines, notice, points, failure, and the
    table (which the real one prints cut to its columns' width)."""
    assert (retold.lines, retold.notice, retold.failed) == (real.lines, real.notice, real.failed), (retold, real)
    assert (retold.total_points, retold.max_points) == (real.total_points, real.max_points), (retold, real)
    assert [row[0] for row in retold.table] == [row[0] for row in real.table], (retold.table, real.table)
    assert retold.table_total.startswith(real.table_total.rstrip("…")), (retold.table_total, real.table_total)


# --- the job -----------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    id: str
    conclusion: str  # success, failure, skipped
    outputs: dict[str, str]


@dataclass
class Job:
    steps: list[Step]
    report: Report | None  # the real reporter's, when the job was given node; else the retelling's
    reporter_env: dict[str, str] = field(default_factory=dict)  # the reporter step's `env:`, as given to it

    def step(self, ident: str) -> Step:
        return next(step for step in self.steps if step.id == ident)


_STATUS_FUNCTIONS = ("always()", "success()", "failure()", "cancelled()", "!cancelled()")


def evaluate_if(expression: str, root: Path, failed: bool) -> bool:
    """The `if:` forms the Classroom workflow uses, joined by &&."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    terms = [term.strip() for term in text.split("&&")]
    if not any(term in _STATUS_FUNCTIONS for term in terms):
        terms.insert(0, "success()")  # GitHub's rule: no status function means success() &&
    values = []
    for term in terms:
        if term == "always()" or term == "!cancelled()":
            values.append(True)  # nothing is cancelled here
        elif term == "cancelled()":
            values.append(False)
        elif term == "success()":
            values.append(not failed)
        elif term == "failure()":
            values.append(failed)
        elif term == "hashFiles('solutions/**') == ''":
            values.append(not any(path.is_file() for path in (root / "solutions").rglob("*")))
        elif term == "github.actor != 'github-classroom[bot]'":
            values.append(True)
        else:
            raise ValueError(f"an `if:` this simulation does not know: {term!r}")
    return all(values)


_EXPRESSION = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*(?:\|\|\s*'([^']*)'\s*)?\}\}")


def substitute(text: str, outputs: dict[str, dict[str, str]]) -> str:
    def value(match: re.Match[str]) -> str:
        found = outputs.get(match.group(1), {}).get(match.group(2), "")
        return found or (match.group(3) or "")

    result = _EXPRESSION.sub(value, text)
    if "${{" in result:
        raise ValueError(f"an expression this simulation does not know: {text!r}")
    return result


def reporter_env(reporter_step: dict[str, Any], outputs: dict[str, dict[str, str]]) -> dict[str, str]:
    return {name: substitute(str(value), outputs) for name, value in (reporter_step.get("env") or {}).items()}


def _run_script(script: str, cwd: Path, path: str, minutes: float | None, log: Path) -> tuple[bool, dict[str, str]]:
    """A `run:` step: `bash -e` on the script, $GITHUB_OUTPUT read back; past
    `timeout-minutes` the step's processes are killed and the step fails."""
    output_file = log.with_suffix(".output")
    output_file.write_text("")
    script_file = log.with_suffix(".sh")
    script_file.write_text(script)
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "GITHUB_OUTPUT": str(output_file), "CI": "true"}
    with open(log, "ab") as out:
        process = subprocess.Popen(
            ["bash", "-e", str(script_file)], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_signals,  # noqa: PLW1509 - as in _exec_sync
        )  # fmt: skip
    try:
        ok = process.wait(minutes * 60 if minutes else None) == 0
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        ok = False
    outputs = {}
    for line in output_file.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            outputs[name] = value
    return ok, outputs


def run_job(
    workflow: Path, root: Path, path: str, logs: Path, node: str | None = None, given: dict[str, Step] | None = None
) -> Job:
    """Run the workflow's one job in `root` as GitHub would, with the two Classroom actions
    re-told above; the set-up steps (checkout, Python, pip install) are taken as done. Given
    `node`, the reporter step also runs the real reporter, whose report the job keeps, and
    checks that the retelling agrees with it. Steps in `given` (by id) are not run: they
    ended as they did in another job of the same workflow (graded steps are independent)."""
    data = yaml.safe_load(workflow.read_text())
    (job,) = data["jobs"].values()
    if "if" in job and not evaluate_if(job["if"], root, failed=False):
        return Job([], None)
    steps: list[Step] = []
    outputs: dict[str, dict[str, str]] = {}
    failed, report, given_env = False, None, {}
    for number, step in enumerate(job["steps"]):
        name, ident = step.get("name", ""), step.get("id", f"step{number}")
        if ("if" in step and not evaluate_if(str(step["if"]), root, failed)) or ("if" not in step and failed):
            steps.append(Step(name, ident, "skipped", {}))
            continue
        if given and ident in given:
            steps.append(given[ident])
            outputs[ident] = given[ident].outputs
            failed = failed or given[ident].conclusion == "failure"
            continue
        uses, run = step.get("uses", ""), step.get("run", "")
        log = logs / f"{number:02d}-{ident}.log"
        ok, out = True, {}
        if uses.startswith(("actions/checkout@", "actions/setup-python@")) or "pip install" in run:
            pass
        elif uses == COMMAND_GRADER:
            out = {"result": command_grader(step["with"], root, path, log)}
        elif uses == REPORTER:
            runners, given_env = str(step["with"]["runners"]), reporter_env(step, outputs)
            report = reporter(runners, given_env)
            if node is not None:
                real = node_reporter(node, runners, given_env, log)
                agree(report, real)
                report = real
            ok = report.failed is None
        elif run:
            ok, out = _run_script(run, root, path, step.get("timeout-minutes"), log)
        else:
            raise ValueError(f"a step this simulation does not know: {step}")
        outputs[ident] = out
        steps.append(Step(name, ident, "success" if ok else "failure", out))
        failed = failed or not ok
    return Job(steps, report, given_env)


def leftover(pids: list[int]) -> list[int]:
    """The processes among `pids` still alive (a zombie has ended)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive
