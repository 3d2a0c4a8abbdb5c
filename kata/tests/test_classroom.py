"""The Classroom workflow, both variants, run as GitHub would with the real actions' rules
(kata/tests/classroom_actions.py): what a student sees and what Classroom records.

The four cases of issue 13, each for the command grader (default) and `--partial-credit`:
an untouched template scores 0 in the notice and in the table; a solved one exactly 100; a
stage that cannot be graded leaves the other stages' points; a hanging stage leaves no
process behind.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kata.cli import main
from kata.grading import GradingConfig, load_config, split_points, weights_path
from kata.layout import all_stages
from kata.tests.classroom_actions import (
    REPORTER_JS,
    REPORTER_JS_BLOB,
    Job,
    js_string,
    js_to_fixed,
    leftover,
    reporter,
    reporter_env,
    run_job,
)
from kata.workflow import (
    MARGIN,
    MAX_ARG_STRLEN,
    RESULT_BYTES,
    WORKFLOW_PATH,
    env_string_bytes,
    grade_script,
    graded_steps,
    limits,
    render,
    result_bytes,
)

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = [pytest.param(False, id="command-grader"), pytest.param(True, id="partial-credit")]
JOB_TIMEOUT = 300  # a job runs pytest once per stage: more than the 20 s one test gets, on a busy machine
KATA_JOB_TIMEOUT = 600  # a job of this whole kata: 80 s on a 2-core machine shared by four runs

needs_posix_tools = pytest.mark.skipif(
    sys.platform != "linux" or not (shutil.which("timeout") and shutil.which("bash") and Path("/bin/sh").exists()),
    reason="the Classroom job runs on Linux: /bin/sh, bash and coreutils timeout",
)


def _node() -> str | None:
    """node 20 or later, as the reporter's action.yml asks (`using: node20`)."""
    found = shutil.which("node")
    if found is None:
        return None
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.match(r"v(\d+)\.", version)
    return found if match and int(match.group(1)) >= 20 else None


NODE = _node()
needs_node = pytest.mark.skipif(NODE is None, reason="the real reporter runs under node 20 or later, not found on PATH")

PYTEST_INI = "[pytest]\naddopts = --import-mode=importlib\ntimeout = 20\nmarkers =\n    given: g\n    integration: i\n"
UNTOUCHED = 'def double(n):\n    raise NotImplementedError("Step: write double()")\n'
SOLVED = "def double(n):\n    return 2 * n\n"
STAGE_TESTS = '''
import pytest
from workit import double


@pytest.mark.given
def test_double_exists():
    assert callable(double)


@pytest.mark.parametrize("n", range({count}))
def test_double(n):
    assert double(n) == 2 * n
'''
HANGING_TESTS = '''
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from workit import double

PIDS = Path(__file__).parent / "pids.txt"
SLEEP = [sys.executable, "-c", "import time; time.sleep(3600)"]


@pytest.fixture
def server():
    """Like the integration tier's servers: in a session of its own, stopped on teardown."""
    process = subprocess.Popen(SLEEP, start_new_session=True)
    yield process
    os.killpg(process.pid, 9)
    process.wait()


def test_double():
    assert double(2) == 4


def test_hangs(server):
    child = subprocess.Popen(SLEEP)
    PIDS.write_text(f"{os.getpid()} {child.pid} {server.pid}\\n")
    time.sleep(3600)
'''
# 3, 3 and 7 tests: points in hundredths added up to 99.99999999999996 for these.
STAGES = {"01_one": (30, 3), "02_two": (45, 3), "03_three": (25, 7)}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def template(root: Path, code: str, partial_credit: bool, classroom: str = "", bonus: str = "") -> Path:
    """A student template in miniature: stages, kata/grading.toml, the generated workflow."""
    write(root / "conftest.py", 'pytest_plugins = ["kata.plugin"]\n')
    write(root / "pytest.ini", PYTEST_INI)
    for name, (_, count) in STAGES.items():
        write(root / "stages" / name / "workit" / "__init__.py", code)
        write(root / "stages" / name / "tests" / "test_it.py", STAGE_TESTS.format(count=count))
    weights = "".join(f"{name} = {points}\n" for name, (points, _) in STAGES.items())
    write(root / "kata" / "grading.toml", f"[weights]\n{weights}\n[bonus]\nstages = [{bonus}]\n[classroom]\n{classroom}")
    args = ["--root", str(root), "workflow"] + (["--partial-credit"] if partial_credit else [])
    written = CliRunner().invoke(main, args)
    assert written.exit_code == 0, written.output
    return root / WORKFLOW_PATH


def job(root: Path, workflow: Path, tmp_path: Path) -> Job:
    """The job, its reporter step run by the real reporter too when node is here (and the
    retelling checked against it)."""
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return run_job(workflow, root, path, logs, node=NODE)


def table_lines(job: Job) -> list[str]:
    assert job.report is not None, "the reporter did not run"
    return job.report.lines


# --- points: what the reporter adds ------------------------------------------------------


def full_marks(counts: dict[str, int], weights: dict[str, float], split) -> str:
    """The notice for a run where every test passes, `split` giving the per-test points."""
    env, runners = {}, []
    for index, (stage, count) in enumerate(counts.items(), start=1):
        shares = split(weights[stage], count)
        result = {"version": 1, "status": "pass", "max_score": weights[stage],
                  "tests": [{"name": f"t{n}", "status": "pass", "score": s} for n, s in enumerate(shares)]}  # fmt: skip
        runners.append(f"stage{index:02d}")
        env[f"STAGE{index:02d}_RESULTS"] = base64.b64encode(json.dumps(result).encode()).decode()
    report = reporter(",".join(runners), env)
    assert report.notice is not None
    return report.notice


def hundredths(points: float, count: int) -> list[float]:
    """How points were split before: hundredths, which doubles cannot add exactly."""
    share, extra = divmod(round(points * 100), count)
    return [(share + (1 if index < extra else 0)) / 100 for index in range(count)]


def test_the_reporter_records_exactly_the_full_points_for_a_solved_kata() -> None:
    weights = load_config(weights_path(ROOT)).weights
    # the earning tests per stage in a solved run on the day of issue 13
    counts = dict(zip(weights, (27, 22, 17, 30, 24)))
    assert full_marks(counts, weights, hundredths) == "Points 99.99999999999997/100"  # what the real reporter recorded
    assert full_marks(counts, weights, split_points) == "Points 100/100"
    for count in range(1, 201):
        for points in range(1, 101):
            shares = split_points(points, count)
            assert all((share * 64).is_integer() for share in shares), (points, count)  # every partial sum exact too
            total = 0.0
            for share in shares:
                total += share
            assert total == points and max(shares) - min(shares) <= 1 / 64, (points, count)


def test_the_js_number_formats_are_javascripts() -> None:
    assert [js_string(x) for x in (0.0, 100.0, 52.5, 0.1 + 0.2, 1e-7)] == ["0", "100", "52.5", "0.30000000000000004", "0.0000001"]
    assert [js_to_fixed(x, 2) for x in (0.125, 2.675, 1 / 3, 20.0)] == ["0.13", "2.67", "0.33", "20.00"]


# --- the four cases, both variants -------------------------------------------------------


@needs_posix_tools
@pytest.mark.timeout(JOB_TIMEOUT)
@pytest.mark.parametrize("partial_credit", VARIANTS)
def test_an_untouched_template_scores_zero_in_the_notice_and_in_the_table(tmp_path: Path, partial_credit: bool) -> None:
    root = tmp_path / "template"
    result = job(root, template(root, UNTOUCHED, partial_credit), tmp_path)
    assert result.report is not None and result.report.notice == "Points 0/100", result.report
    assert result.report.table_total == "0", result.report.table  # `given` tests pass, and must not count
    assert table_lines(result) == ["Total points for stage01: 0.00/30", "Total points for stage02: 0.00/45", "Total points for stage03: 0.00/25"]
    assert result.report.failed == "Some tests failed."


@needs_posix_tools
@pytest.mark.timeout(JOB_TIMEOUT)
@pytest.mark.parametrize("partial_credit", VARIANTS)
def test_a_solved_template_scores_exactly_100(tmp_path: Path, partial_credit: bool) -> None:
    root = tmp_path / "template"
    result = job(root, template(root, SOLVED, partial_credit), tmp_path)
    assert result.report is not None and result.report.notice == "Points 100/100", result.report
    assert result.report.table_total == "100"
    assert table_lines(result) == ["Total points for stage01: 30.00/30", "Total points for stage02: 45.00/45", "Total points for stage03: 25.00/25"]
    assert result.report.failed is None and all(step.conclusion == "success" for step in result.steps)


@needs_posix_tools
@pytest.mark.timeout(JOB_TIMEOUT)
@pytest.mark.parametrize("partial_credit", VARIANTS)
def test_a_stage_that_cannot_be_graded_and_a_hanging_one_leave_the_other_points_and_no_process(
    tmp_path: Path, partial_credit: bool
) -> None:
    # Stage 02 hangs (and has started a process in its own session, as the integration tier
    # does, and a plain child); stage 03 is gone. The hang is stopped by `timeout` after
    # 17.8 s (0.4 minutes a stage), or with partial credit by `kata grade` after 13.5 s (0.5
    # minutes): see kata.workflow.limits.
    root = tmp_path / "template"
    workflow = template(root, SOLVED, partial_credit, classroom=f"timeout_minutes = {0.5 if partial_credit else 0.4}\n")
    write(root / "stages" / "02_two" / "tests" / "test_it.py", HANGING_TESTS)
    shutil.rmtree(root / "stages" / "03_three")
    result = job(root, workflow, tmp_path)

    pids_file = root / "stages" / "02_two" / "tests" / "pids.txt"
    assert pids_file.exists(), f"the hanging test never started within {limits(load_config(root / 'kata' / 'grading.toml')).hard} s"
    pids = [int(pid) for pid in pids_file.read_text().split()]
    waited = 0.0
    while leftover(pids) and waited < 15:  # killed processes may take a moment to be gone
        time.sleep(0.1)
        waited += 0.1
    alive = leftover(pids)
    for pid in alive:
        os.kill(pid, 9)
    assert not alive, f"still running after the job: {alive} of pytest, its child, its server {pids}"

    report = result.report
    assert report is not None and report.notice is not None, "nothing recorded: one stage's trouble cost every stage"
    # 30 for stage 01; stage 02's passing test earns half its 45 with partial credit, if
    # `kata grade` stopped the hang itself (else the outer bound did, and stage 02 errs).
    expected = ["Points 30/100", "Points 52.5/100"] if partial_credit else ["Points 30/100"]
    assert report.notice in expected, report
    assert report.max_points == 100, "a stage that could not be graded still counts its points in the maximum"
    assert all(step.conclusion != "skipped" for step in result.steps if step.id.startswith("stage"))


@needs_posix_tools
@pytest.mark.timeout(JOB_TIMEOUT)
def test_without_grading_toml_every_stage_records_an_error_not_an_empty_result(tmp_path: Path) -> None:
    root = tmp_path / "template"
    workflow = template(root, SOLVED, partial_credit=True)
    (root / "kata" / "grading.toml").unlink()
    result = job(root, workflow, tmp_path)
    assert result.report is not None and result.report.notice == "Points 0/100", result.report
    assert result.report.failed == "Some tests errored."
    runner = json.loads(base64.b64decode(result.step("stage01").outputs["result"]))
    assert runner["status"] == "error" and "kata grade wrote no result for 01_one" in runner["message"]


@pytest.mark.parametrize("partial_credit", VARIANTS)
def test_a_step_that_left_no_result_costs_only_its_own_stage(partial_credit: bool) -> None:
    """Skipped, or stopped by timeout-minutes: the reporter still records the others."""
    config = load_config(weights_path(ROOT))
    workflow = yaml.safe_load(render(all_stages(ROOT), config, partial_credit))
    reporter_step = workflow["jobs"]["run-autograding-tests"]["steps"][-1]
    passed = {"version": 1, "status": "pass", "max_score": 20, "tests": [{"name": "01_sync", "status": "pass", "score": 20}]}
    outputs = {"stage01": {"result": base64.b64encode(json.dumps(passed).encode()).decode()}}
    report = reporter(str(reporter_step["with"]["runners"]), reporter_env(reporter_step, outputs))
    most = config.core_points(list(config.weights))  # bonus stages are extra credit: not in the maximum
    assert report.notice == f"Points 20/{most:g}", report
    assert report.lines[1] == "Total points for stage02: 0.00/20" and report.failed == "Some tests errored."


@needs_posix_tools
def test_the_simulated_grader_kills_only_the_shell_as_the_real_one_does(tmp_path: Path) -> None:
    """Why every command `exec`s `timeout`: without it, the grader's timeout leaves the command running."""
    from kata.tests.classroom_actions import command_grader

    marker = tmp_path / "pid"
    # `; true` makes any /bin/sh fork (dash, the runner's, forks for a plain command too)
    command = f"{sys.executable} -c \"import os, time; open('{marker}', 'w').write(str(os.getpid())); time.sleep(60)\"; true"
    encoded = command_grader({"test-name": "t", "command": command, "timeout": "0.02", "max-score": "5"}, tmp_path, os.environ["PATH"], tmp_path / "log")
    result = json.loads(base64.b64decode(encoded))
    assert result["status"] == "error" and result["tests"][0]["message"] == "Command timed out"
    assert marker.exists(), "the command never started"
    pid = int(marker.read_text())
    alive = leftover([pid])
    for each in alive:
        os.kill(each, 9)
    assert alive == [pid], "the grader's shell took its child with it: then the simulation is not the real grader"


# --- extra credit ------------------------------------------------------------------------


@needs_posix_tools
@pytest.mark.timeout(JOB_TIMEOUT)
@pytest.mark.parametrize(
    ("partial_credit", "bonus_code", "notice", "lines"),
    [
        pytest.param(True, SOLVED, "Points 100/75", ["Total points for stage01: 30.00/30", "Total points for stage02: 45.00/45"], id="partial-credit-bonus-done"),
        pytest.param(True, UNTOUCHED, "Points 75/75", ["Total points for stage01: 30.00/30", "Total points for stage02: 13.50/45"], id="partial-credit-bonus-untouched"),
        pytest.param(False, SOLVED, "Points 75/75", ["Total points for stage01: 30.00/30", "Total points for stage02: 45.00/45"], id="command-grader"),
    ],
)
def test_a_bonus_stage_is_extra_credit_and_skipping_it_costs_nothing(
    tmp_path: Path, partial_credit: bool, bonus_code: str, notice: str, lines: list[str]
) -> None:
    """03_three is a bonus stage: with partial credit its points ride on stage 02's step
    (the reporter adds every test's score but only the runners' max_score); untouched, the
    run stays green. The command grader has no extra credit: the stage is left out."""
    root = tmp_path / "template"
    workflow = template(root, SOLVED, partial_credit, bonus='"03_three"')
    write(root / "stages" / "03_three" / "workit" / "__init__.py", bonus_code)
    result = job(root, workflow, tmp_path)
    assert result.report is not None and result.report.notice == notice, result.report
    assert result.report.max_points == 75, "a bonus stage must not raise the maximum"
    # The reporter's table scores a runner by its share of passing tests (3 of 10 passing: 13.50),
    # whatever the points: only the notice is recorded. The README says so.
    assert table_lines(result) == lines
    assert result.report.failed is None, "a core-complete learner gets a green run, bonus done or not"
    assert [step.id for step in result.steps if step.id.startswith("stage")] == ["stage01", "stage02"]


# --- the reporter's environment: every step's result in one variable (issue 24) ----------


def test_the_reporter_run_here_is_the_released_one() -> None:
    data = REPORTER_JS.read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's object id
    assert blob == REPORTER_JS_BLOB, f"{REPORTER_JS} is not the reporter's released dist/main.js (its README says where from)"


@needs_node
@pytest.mark.skipif(sys.platform != "linux", reason="MAX_ARG_STRLEN is Linux's, as on GitHub's runners")
def test_linux_refuses_one_environment_string_of_max_arg_strlen_bytes() -> None:
    """The limit kata/workflow.py keeps each step's result under, as it is here: `NAME=value`
    and its NUL may take MAX_ARG_STRLEN bytes, not one more."""
    name = "STAGE04_RESULTS="
    fits = {"PATH": os.environ["PATH"], "STAGE04_RESULTS": "x" * (MAX_ARG_STRLEN - len(name) - 1)}
    assert subprocess.run([NODE, "-e", "0"], env=fits, check=False).returncode == 0
    over = dict(fits, STAGE04_RESULTS=fits["STAGE04_RESULTS"] + "x")
    with pytest.raises(OSError, match="Argument list too long") as refused:
        subprocess.run([NODE, "-e", "0"], env=over, check=False)
    assert refused.value.errno == errno.E2BIG  # the reporter would never start


@needs_posix_tools
def test_a_step_replaces_a_result_over_its_limit_with_an_error_result(tmp_path: Path) -> None:
    """Should `kata grade` ever write more than --max-bytes, the step hands the reporter an
    error result for its stage, not a variable that would stop the reporter for every stage."""
    config = load_config(weights_path(ROOT))
    step = graded_steps(all_stages(ROOT), config, partial_credit=True)[0]
    script = grade_script(step, config, max_bytes=2048)
    assert "--max-bytes 2048 " in script[1]
    (tmp_path / f"grade-{step.ident}.json").write_text(json.dumps({"tests": ["x" * 3000]}))
    output = tmp_path / "output"
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-e", "-c", "\n".join(script[2:])], cwd=tmp_path, env=env, check=True)
    result = json.loads(base64.b64decode(output.read_text().split("=", 1)[1]))
    assert (result["status"], result["max_score"]) == ("error", config.weights[step.stage.name])
    assert "over 2048 bytes" in result["message"]


def test_each_steps_share_keeps_the_reporters_environment_under_arg_max() -> None:
    assert result_bytes(4) == RESULT_BYTES and result_bytes(40) < RESULT_BYTES
    assert env_string_bytes("stage01", RESULT_BYTES) <= MAX_ARG_STRLEN - MARGIN


def kata_template(destination: Path, solved: bool) -> Path:
    """This kata as a student gets it (`kata export`), untouched or with every stage's
    reference code in place, and its partial-credit workflow."""
    exported = CliRunner().invoke(main, ["--root", str(ROOT), "export", str(destination)])
    assert exported.exit_code == 0, exported.output
    if solved:
        for stage in all_stages(ROOT):
            code = destination / "stages" / stage.name / "workit"
            shutil.rmtree(code)
            shutil.copytree(ROOT / "solutions" / stage.name / "workit", code, ignore=shutil.ignore_patterns("__pycache__"))
    written = CliRunner().invoke(main, ["--root", str(destination), "workflow", "--partial-credit"])
    assert written.exit_code == 0, written.output
    return destination / WORKFLOW_PATH


def each_result_fits(result: Job, config: GradingConfig) -> None:
    """Every step's result in the reporter's environment (all of them at full size were given
    to node: it started), within its budget, each test that did not pass saying why."""
    steps = graded_steps(all_stages(ROOT), config, partial_credit=True)
    budget = result_bytes(len(steps))
    for step in steps:
        value = result.reporter_env[f"{step.ident.upper()}_RESULTS"]
        size = len(base64.b64decode(value))
        print(f"{step.ident}: {size} bytes of JSON, {len(value)} of base64 (at most {budget} of JSON)")
        assert size <= budget and len(f"{step.ident.upper()}_RESULTS={value}") + 1 <= MAX_ARG_STRLEN - MARGIN
        runner = json.loads(base64.b64decode(value))
        not_passing = [test for test in runner["tests"] if test["status"] != "pass"]
        assert all(test["message"] for test in not_passing), "each test that did not pass says why, if only its start"
        assert not any("test_code" in test for test in runner["tests"] if test["status"] == "pass")


# Issue 24: this whole kata, bonus stages riding on the last core step, through the real
# reporter under node with each step's result at full size in its environment. The last
# step's result (every bonus stage's tests with it) was 291,214 bytes of JSON, 388,288 of
# base64, for an untouched kata: node could not start, and Classroom recorded nothing. Both
# extremes are measured: untouched (every test failing, each with its message) and solved.


@pytest.fixture(scope="module")
def solved_kata(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Job]:
    """This kata's template with every stage's reference code in place, and its job."""
    tmp_path = tmp_path_factory.mktemp("solved")
    root = tmp_path / "template"
    return root, job(root, kata_template(root, solved=True), tmp_path)


@needs_posix_tools
@needs_node
@pytest.mark.timeout(KATA_JOB_TIMEOUT)
def test_this_kata_untouched_is_recorded_by_the_real_reporter_as_zero(tmp_path: Path) -> None:
    config = load_config(weights_path(ROOT))
    root = tmp_path / "template"
    result = job(root, kata_template(root, solved=False), tmp_path)
    assert result.report is not None and result.report.notice == f"Points 0/{config.core_points(list(config.weights)):g}", result.report
    assert result.report.failed == "Some tests failed."
    each_result_fits(result, config)


@needs_posix_tools
@needs_node
@pytest.mark.timeout(KATA_JOB_TIMEOUT)
def test_this_kata_solved_is_recorded_by_the_real_reporter_with_every_bonus_point(solved_kata: tuple[Path, Job]) -> None:
    config = load_config(weights_path(ROOT))
    _, result = solved_kata
    every, core = sum(config.weights.values()), config.core_points(list(config.weights))
    assert result.report is not None and result.report.notice == f"Points {every:g}/{core:g}", result.report  # 145/85
    assert result.report.failed is None
    each_result_fits(result, config)


@needs_posix_tools
@needs_node
@pytest.mark.timeout(KATA_JOB_TIMEOUT)
def test_this_kata_with_a_stage_that_writes_no_result_is_recorded_with_the_other_stages_points(
    tmp_path: Path, solved_kata: tuple[Path, Job]
) -> None:
    """Stage 01 is gone from the solved kata: its `kata grade` writes no JSON and its step
    hands on an error result. The other steps are those of the solved kata's job (each step
    grades its own stages only), so only stage 01's step and the reporter run again."""
    config = load_config(weights_path(ROOT))
    solved_root, solved = solved_kata
    root = tmp_path / "template"
    shutil.copytree(solved_root, root, ignore=shutil.ignore_patterns("__pycache__", ".kata", "grade-*.json"))
    (gone, *_) = all_stages(ROOT)
    shutil.rmtree(root / "stages" / gone.name)
    ident = graded_steps(all_stages(ROOT), config, partial_credit=True)[0].ident
    others = {step.id: step for step in solved.steps if step.id.startswith("stage") and step.id != ident}
    logs = tmp_path / "logs"
    logs.mkdir()
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    result = run_job(root / WORKFLOW_PATH, root, path, logs, node=NODE, given=others)

    runner = json.loads(base64.b64decode(result.step(ident).outputs["result"]))
    assert runner["status"] == "error" and f"kata grade wrote no result for {gone.name}" in runner["message"]
    others_points = sum(config.weights.values()) - config.weights[gone.name]
    core = config.core_points(list(config.weights))
    assert result.report is not None and result.report.notice == f"Points {others_points:g}/{core:g}", result.report  # 125/85
    assert result.report.failed == "Some tests errored."
    each_result_fits(result, config)
