"""`kata grade` (Classroom's runner format, partial credit, golden output), hangs and crashes,
and the Classroom and CI workflows."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kata.cli import main
from kata.grading import (
    CUT,
    MESSAGE_LINES,
    GradingConfig,
    GradingError,
    check_weights,
    compact,
    first_lines,
    fit,
    load_config,
    split_points,
    weights_path,
)
from kata.layout import Stage, all_stages
from kata.testfiles import static_tests
from kata.tests.classroom_actions import reporter
from kata.workflow import COMMAND_GRADER, REPORTER, RESULT_BYTES, WORKFLOW_PATH, render, step_id

# Each grading test runs a pytest session in a subprocess: on a busy machine it takes longer
# than pytest-timeout's 20 s. The grader's own limits (--timeout) are what these tests check.
pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("KATA_UPDATE_GOLDEN") == "1"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_tree(root: Path, stages: dict[str, tuple[str, dict[str, str]]], weights: dict[str, float]) -> Path:
    """A small kata: stages/NAME/workit/__init__.py and stages/NAME/tests/*.py, and weights."""
    write(root / "conftest.py", 'pytest_plugins = ["kata.plugin"]\n')
    write(
        root / "pytest.ini",
        "[pytest]\naddopts = --import-mode=importlib\ntimeout = 20\nmarkers =\n    given: g\n    integration: i\n",
    )
    for name, (code, tests) in stages.items():
        write(root / "stages" / name / "workit" / "__init__.py", code)
        for filename, text in tests.items():
            write(root / "stages" / name / "tests" / filename, text)
    write(root / "weights.toml", "[weights]\n" + "".join(f"{name} = {points}\n" for name, points in weights.items()))
    return root / "weights.toml"


def grade(root: Path, *args: str, clean_env: pytest.MonkeyPatch) -> tuple[int, str, dict[str, Any]]:
    clean_env.delenv("KATA_INTEGRATION", raising=False)
    out = root / "grade.json"
    result = CliRunner().invoke(main, ["--root", str(root), "grade", "--weights", str(root / "weights.toml"), "--json", str(out), *args])
    assert out.exists(), result.output
    return result.exit_code, result.output, json.loads(out.read_text())


ANSWER_TESTS = '''
import pytest
from workit import answer, shout


def test_answer():
    result = answer()
    assert result == 42, f"answer() gave {result}; expected 42"


def test_shout():
    print("shouting now")
    assert shout("hi") == "HI!", "shout('hi') should add an exclamation mark"


@pytest.mark.given
def test_answer_is_callable():
    assert callable(answer)


@pytest.mark.parametrize("word", ["a", "b"])
def test_shout_upper(word):
    assert shout(word).startswith(word.upper())
'''

BROKEN_TESTS = '''
import pytest
from workit.missing import thing


@pytest.mark.parametrize("n", [1, 2, 3])
def test_thing(n):
    assert thing(n)


def test_more():
    pass
'''

FINE_TESTS = '''
from workit import todo


def test_todo():
    todo()


def test_nothing_to_do():
    pass
'''


def normalised(result: dict[str, Any]) -> dict[str, Any]:
    for test in result["tests"]:
        test["duration"] = 0.0
    return result


def test_grade_gives_partial_credit_in_the_classroom_runner_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(
        tmp_path,
        {
            "01_answer": ("def answer():\n    return 41\n\n\ndef shout(text):\n    return text.upper()\n", {"test_answer.py": ANSWER_TESTS}),
            "02_broken": (
                'def todo():\n    raise NotImplementedError("Step 02_broken: write todo()")\n',
                {"test_broken.py": BROKEN_TESTS, "test_fine.py": FINE_TESTS},
            ),
        },
        {"01_answer": 10, "02_broken": 5},
    )
    code, output, result = grade(tmp_path, clean_env=monkeypatch)
    golden = GOLDEN / "grade.json"
    if UPDATE_GOLDEN:
        golden.write_text(json.dumps(normalised(result), indent=2) + "\n")
    assert normalised(result) == json.loads(golden.read_text()), "the result changed: KATA_UPDATE_GOLDEN=1 rewrites the golden file"
    assert code == 1
    assert "5.00 / 10" in output and "0.84 / 5" in output and "5.84 / 15" in output, output  # `given` earns 0
    assert "4 test(s) could not run" in output


def test_a_passing_kata_scores_full_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(
        tmp_path,
        {"01_answer": ("def answer():\n    return 42\n\n\ndef shout(text):\n    return text.upper() + '!'\n", {"test_answer.py": ANSWER_TESTS})},
        {"01_answer": 10},
    )
    code, _output, result = grade(tmp_path, clean_env=monkeypatch)
    assert (code, result["status"], result["max_score"]) == (0, "pass", 10)
    assert sum(test["score"] for test in result["tests"]) == pytest.approx(10)
    # the `given` test earns nothing and is left out: the reporter's table counts passes
    assert [test["max_score"] for test in result["tests"]] == [2.5, 2.5, 2.5, 2.5]
    assert not any(test["name"].endswith("test_answer_is_callable") for test in result["tests"])


def test_a_bonus_stage_adds_to_the_score_not_to_the_maximum_and_cannot_fail_the_grade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = make_tree(
        tmp_path,
        {
            "01_answer": ("def answer():\n    return 42\n\n\ndef shout(text):\n    return text.upper() + '!'\n", {"test_answer.py": ANSWER_TESTS}),
            "02_extra": ("def answer():\n    return 41\n\n\ndef shout(text):\n    return text.upper() + '!'\n", {"test_answer.py": ANSWER_TESTS}),
        },
        {"01_answer": 10, "02_extra": 8},
    )
    weights.write_text(weights.read_text() + '[bonus]\nstages = ["02_extra"]\n')
    code, output, result = grade(tmp_path, clean_env=monkeypatch)
    assert (result["max_score"], result["status"], code) == (10, "pass", 0), output  # 02_extra fails one test: still a pass
    assert sum(test["score"] for test in result["tests"]) == pytest.approx(16)  # 10 + 3 of 4 bonus tests of 2 points
    assert "02_extra (bonus)" in output and "16.00 / 10" in output and "extra credit: up to 8 more" in output, output
    _, _, alone = grade(tmp_path, "02_extra", clean_env=monkeypatch)
    assert (alone["max_score"], alone["status"]) == (0, "fail"), "graded alone, a bonus stage's failures are its status"


HANGS = "def answer():\n    while True:\n        pass\n"
CRASHES = "import os\n\n\ndef answer():\n    os._exit(3)\n"
SIMPLE_TESTS = "from workit import answer\n\n\ndef test_answer():\n    assert answer() == 42\n\n\ndef test_later():\n    pass\n"


def test_a_hanging_test_fails_with_a_message_and_a_crash_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(
        tmp_path,
        {"01_hang": (HANGS, {"test_it.py": SIMPLE_TESTS}), "02_crash": (CRASHES, {"test_it.py": SIMPLE_TESTS})},
        {"01_hang": 1, "02_crash": 1},
    )
    code, _, result = grade(tmp_path, "--pytest-args", "--timeout 1", clean_env=monkeypatch)
    by_name = {test["name"]: test for test in result["tests"]}
    hung = by_name["01_hang/tests/test_it.py::test_answer"]
    assert hung["status"] == "fail" and "Timeout (>1.0s)" in hung["message"], hung
    assert by_name["01_hang/tests/test_it.py::test_later"]["status"] == "pass"
    crashed = by_name["02_crash/tests/test_it.py::test_answer"]
    assert crashed["status"] == "error" and "pytest stopped while this test ran (exit code 3)" in crashed["message"]
    assert by_name["02_crash/tests/test_it.py::test_later"]["status"] == "error"
    assert (code, result["status"]) == (1, "error") and "exit" in result["message"]


def test_a_run_that_outlives_the_time_limit_is_stopped_and_graded_as_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, {"01_hang": (HANGS, {"test_it.py": SIMPLE_TESTS})}, {"01_hang": 4})
    # 6 s: time for pytest to start and collect on a busy machine before the limit stops it
    code, _output, result = grade(tmp_path, "--timeout", "6", "--pytest-args", "-p no:timeout", clean_env=monkeypatch)
    assert (code, result["status"]) == (1, "error")
    assert result["message"] == "the tests did not finish within 6 s and were stopped"
    statuses = {test["name"].split("::")[1]: (test["status"], test["message"]) for test in result["tests"]}
    assert statuses["test_answer"][0] == "error" and "stopped after" in statuses["test_answer"][1]
    assert statuses["test_later"][0] == "error"
    assert all(test["score"] == 0 for test in result["tests"])


SLOW_TO_COLLECT = "import time\n\ntime.sleep(3600)  # collection never ends\n\n\ndef test_one():\n    pass\n\n\ndef test_two():\n    pass\n"


def test_a_run_stopped_before_collection_still_lists_every_test_as_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, {"01_slow": ("", {"test_it.py": SLOW_TO_COLLECT})}, {"01_slow": 4})
    code, _output, result = grade(tmp_path, "--timeout", "2", "--pytest-args", "-p no:timeout", clean_env=monkeypatch)
    assert (code, result["status"]) == (1, "error")
    statuses = {test["name"]: (test["status"], test["message"]) for test in result["tests"]}
    assert set(statuses) == {"01_slow/tests/test_it.py::test_one", "01_slow/tests/test_it.py::test_two"}, (
        f"a run stopped before pytest had collected anything listed {sorted(statuses)}; expected "
        "every test of the stage, as errors: a test the result does not name is a test nobody sees fail"
    )
    assert all(status == "error" and "before pytest had even collected" in message for status, message in statuses.values()), statuses
    assert sum(test["max_score"] for test in result["tests"]) == pytest.approx(4) and all(test["score"] == 0 for test in result["tests"])


# --- the result's size (issue 24): what the reporter's one environment variable holds ----


def big_result(stages: int, tests: int, passing: float) -> dict[str, Any]:
    """A result as `kata grade` writes one for `stages` stages of `tests` tests each, the first
    `passing` share of each stage passing, every other test failing with all it can say."""
    entries = []
    for stage in range(1, stages + 1):
        name = f"{stage:02d}_a_stage_with_a_long_name"
        for index, points in enumerate(split_points(15, tests)):
            test = {"name": f"{name}/tests/test_file_{index % 4}.py::test_number_{index}_with_a_name_as_long_as_ours_are[case-{index}]",
                    "status": "pass" if index < passing * tests else ("fail" if index % 5 else "error"),
                    "score": 0, "max_score": points}  # fmt: skip
            if test["status"] == "pass":
                test["score"] = points
            else:
                message = "\n".join(f"line {n} of why test {index} failed: assert {'x' * 60} == 'é'" for n in range(40))
                test.update(message=first_lines(message), output="printed\n" * 62, test_code="def test(): ...\n" * 250)
            test.update(filename=f"stages/{name}/tests/test_file_{index % 4}.py", line_no=10 + index, duration=0.25)
            entries.append(test)
    statuses = {test["status"] for test in entries}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return {"version": 1, "status": status, "max_score": 15, "tests": entries}


def notice(result: dict[str, Any]) -> str | None:
    """What the reporter records for this one runner."""
    import base64

    return reporter("stage01", {"STAGE01_RESULTS": base64.b64encode(compact(result).encode()).decode()}).notice


@pytest.mark.parametrize("stages", [1, 5, 9, 20, 80])
@pytest.mark.parametrize("passing", [0.0, 0.5, 1.0])
def test_a_result_fits_its_limit_and_keeps_every_point_however_many_stages(stages: int, passing: float) -> None:
    result = big_result(stages, 60, passing)
    fitted = fit(result, RESULT_BYTES)
    assert len(compact(fitted)) <= RESULT_BYTES
    assert (fitted["status"], fitted["max_score"]) == (result["status"], result["max_score"])
    assert notice(fitted) == notice(result), "the points the reporter records must not move"
    assert all("message" in test for test in fitted["tests"] if test["status"] != "pass")
    assert all(test["message"] for test in fitted["tests"] if test["status"] != "pass"), "each says why, if only its start"
    per_test = [test["name"] for test in fitted["tests"]] == [test["name"] for test in result["tests"]]
    assert per_test or not (stages == 1 or (stages <= 5 and passing == 1)), "as many tests as this kata has: one entry each"
    if len(compact(result)) <= RESULT_BYTES:
        assert fitted is result
    elif per_test:  # every test listed, each that did not pass with the start of its message
        for mine, theirs in zip(fitted["tests"], result["tests"]):
            assert {key: mine[key] for key in ("status", "score", "max_score", "line_no")} == {
                key: theirs[key] for key in ("status", "score", "max_score", "line_no")
            }
            if mine["status"] != "pass":  # the whole message, or its start with a note
                assert mine["message"].startswith("line 0 of why test")
                assert mine["message"] == theirs["message"] or theirs["message"].startswith(mine["message"].removesuffix(CUT))
                assert mine["message"] == theirs["message"] or mine["message"].endswith(CUT)
                assert mine.get("test_code") in (None, theirs["test_code"]), "a test's code is whole or left out"


def test_a_result_too_large_for_one_entry_per_test_has_one_per_file_then_per_stage() -> None:
    result = big_result(20, 60, 0.5)  # 1200 tests: their names alone are over the limit
    by_file = fit(result, RESULT_BYTES)
    assert len(by_file["tests"]) == 20 * 4
    first = by_file["tests"][0]
    assert first["name"] == "01_a_stage_with_a_long_name/tests/test_file_0.py (15 tests)" and first["status"] == "error"
    assert first["message"].startswith("8 of 15 passed; did not pass:\n- test_number_32_with_a_name_as_long_as_ours_are[case-32]: line 0 of why")
    by_stage = fit(result, 4096)
    assert len(compact(by_stage)) <= 4096 and len(by_stage["tests"]) == 20 and notice(by_stage) == notice(result)
    with pytest.raises(GradingError, match="cannot be made to fit in 1024 bytes"):
        fit(result, 1024)


def test_a_failure_message_keeps_its_first_lines_with_a_note() -> None:
    message = "\n".join(f"line {n}" for n in range(25))
    assert first_lines(message) == "\n".join(f"line {n}" for n in range(MESSAGE_LINES)) + f"\n... ({25 - MESSAGE_LINES} more lines)"
    assert first_lines("short\n") == "short"
    assert first_lines("x" * 5000).endswith("x ...") and len(first_lines("x" * 5000)) < 1100


def test_kata_grade_keeps_its_json_under_max_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tests = "\n\n".join(f"def test_{n}():\n    assert False, 'this test fails with a long story ' * 30" for n in range(40))
    make_tree(tmp_path, {"01_long": ("", {"test_it.py": tests})}, {"01_long": 10})
    _, _, full = grade(tmp_path, clean_env=monkeypatch)
    code, _, fitted = grade(tmp_path, "--max-bytes", "8192", clean_env=monkeypatch)
    written = (tmp_path / "grade.json").read_bytes()
    assert code == 1 and len(written) <= 8192 and written.endswith(b"}\n") and b"\n" not in written[:-1]
    assert len(full["tests"]) == len(fitted["tests"]) == 40 and fitted["tests"][0]["message"].startswith("this test fails")


def test_points_are_split_in_sixty_fourths_that_add_up_exactly() -> None:
    assert split_points(25, 26) == [62 / 64] * 14 + [61 / 64] * 12
    assert sum(split_points(25, 26)) == 25  # exactly: binary fractions (see test_classroom.py)
    assert split_points(10, 4) == [2.5] * 4 and split_points(5, 0) == []


def test_weights_are_whole_numbers_and_the_time_limit_a_positive_number(tmp_path: Path) -> None:
    for text, problem in (("01_sync = 12.5", "whole number"), ("01_sync = 0", "whole number"), ("01_sync = true", "whole number")):
        write(tmp_path / "g.toml", f"[weights]\n{text}\n")
        with pytest.raises(GradingError, match=problem):
            load_config(tmp_path / "g.toml")
    write(tmp_path / "g.toml", "[weights]\n01_sync = 20\n[classroom]\ntimeout_minutes = 0\n")
    with pytest.raises(GradingError, match="timeout_minutes"):
        load_config(tmp_path / "g.toml")
    write(tmp_path / "g.toml", "[weights]\n01_sync = 20\n[classroom]\ntimeout_minutes = 0.5\n")
    assert load_config(tmp_path / "g.toml").timeout_minutes == 0.5


def test_bonus_stages_must_be_stages_with_points_and_leave_a_core(tmp_path: Path) -> None:
    weights = "[weights]\n01_sync = 20\n05_failures = 15\n"
    for bonus, problem in (('"05_failures"', None), ('"07_scale"', "07_scale, which \\[weights\\] does not give"),
                           ('"01_sync", "05_failures"', "every stage is a bonus stage"), ("5", "list of stage names")):
        write(tmp_path / "g.toml", f"{weights}[bonus]\nstages = [{bonus}]\n")
        if problem is None:
            config = load_config(tmp_path / "g.toml")
            assert config.bonus == ("05_failures",) and config.core_points(["01_sync", "05_failures"]) == 20
        else:
            with pytest.raises(GradingError, match=problem):
                load_config(tmp_path / "g.toml")


def test_tests_of_a_file_that_does_not_import_are_counted_from_its_source(tmp_path: Path) -> None:
    write(tmp_path / "test_x.py", "import pytest\nCASES = [1, 2]\n\n@pytest.mark.parametrize('a', CASES)\n"
          "@pytest.mark.parametrize('b', ['x', 'y', 'z'])\ndef test_grid(a, b):\n    pass\n\ndef test_one():\n    pass\n\ndef helper():\n    pass\n")
    names = static_tests(tmp_path / "test_x.py")
    assert len(names) == 7 and names[0] == ("test_grid[#1]", 6) and names[-1] == ("test_one", 9)


def test_the_weights_match_the_stages_on_disk() -> None:
    path = weights_path(ROOT)
    config = load_config(path)
    check_weights(config, all_stages(ROOT), path)
    with pytest.raises(GradingError, match="no weight for 09_new"):
        check_weights(config, [*all_stages(ROOT), Stage(ROOT, "09_new")], path)
    with pytest.raises(GradingError, match="weights for stages that do not exist: 01_sync"):
        check_weights(config, [s for s in all_stages(ROOT) if s.name != "01_sync"], path)


def test_the_committed_classroom_workflow_is_the_one_the_weights_give() -> None:
    config = load_config(weights_path(ROOT))
    committed = (ROOT / WORKFLOW_PATH).read_text()
    assert committed == render(all_stages(ROOT), config), "run `python -m kata workflow` and commit the result"


def steps_of(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    assert list(workflow["jobs"]) == ["run-autograding-tests"], "GitHub Classroom wants exactly this one job"
    return list(workflow["jobs"]["run-autograding-tests"]["steps"])


def test_the_classroom_workflow_grades_each_stage_on_disk_with_its_points() -> None:
    config = load_config(weights_path(ROOT))
    workflow = yaml.safe_load((ROOT / WORKFLOW_PATH).read_text())
    assert workflow["name"] == "Autograding Tests"
    assert "push" in workflow["on"]
    steps = steps_of(workflow)
    graders = [step for step in steps if step.get("uses") == COMMAND_GRADER]
    stages = [stage for stage in all_stages(ROOT) if not config.is_bonus(stage.name)]
    assert config.bonus and len(stages) < len(all_stages(ROOT)), "kata/grading.toml names the bonus stages"
    # the command grader has no extra credit: the bonus stages are left out (see kata/workflow.py)
    assert [step["with"]["test-name"] for step in graders] == [stage.name for stage in stages]
    for step, stage in zip(graders, stages):
        inputs = step["with"]
        assert set(inputs) == {"test-name", "setup-command", "command", "timeout", "max-score"}
        assert inputs["max-score"] == config.weights[stage.name]
        # exec: the grader's timeout kills the shell only; `timeout` stops the process group
        assert inputs["command"] == f"KATA_TARGET=stages exec timeout -s INT -k 15 270 python -m pytest stages/{stage.name} -q -p no:cacheprovider"
        assert inputs["timeout"] == config.timeout_minutes and step["timeout-minutes"] == config.timeout_minutes + 1
        assert step["id"] == step_id(stage) and step["id"].isalnum()
        assert step["if"] == "${{ !cancelled() && hashFiles('solutions/**') == '' }}", "a failed step must not skip the next stages"
    reporter = steps[-1]
    assert reporter["uses"] == REPORTER
    ids = [step["id"] for step in graders]
    assert reporter["with"]["runners"] == ",".join(ids)
    assert reporter["if"] == "${{ !cancelled() && hashFiles('solutions/**') == '' }}"
    assert {name: value.split("||")[0] for name, value in reporter["env"].items()} == {
        f"{i.upper()}_RESULTS": f"${{{{ steps.{i}.outputs.result " for i in ids
    }  # `|| '<an error result>'`: see test_classroom.py
    assert set(workflow["on"]) == {"push", "repository_dispatch", "workflow_dispatch"}, "a mapping: actionlint rejects the list"
    assert "services" not in workflow["jobs"]["run-autograding-tests"], "Redis only when the integration tier is graded"
    assert any(step.get("uses", "").startswith("actions/setup-python@") for step in steps)


def test_graded_integration_and_partial_credit_variants_are_valid_workflows() -> None:
    config = load_config(weights_path(ROOT))
    stages = all_stages(ROOT)
    both = GradingConfig(config.weights, config.python, config.timeout_minutes, integration=True, bonus=config.bonus)
    job = yaml.safe_load(render(stages, both, partial_credit=True))["jobs"]["run-autograding-tests"]
    assert job["services"]["redis"]["ports"] == ["6379:6379"]
    runs = [step for step in job["steps"] if "kata grade" in step.get("run", "")]
    core = [stage.name for stage in stages if not config.is_bonus(stage.name)]
    bonus = [stage.name for stage in stages if config.is_bonus(stage.name)]
    assert len(runs) == len(core)
    # extra credit: the bonus stages are graded in the last core stage's step
    graded = [[name] for name in core[:-1]] + [[core[-1], *bonus]]
    assert runs[-1]["name"] == f"{core[-1]} + bonus {' '.join(bonus)}"
    for step, names in zip(runs, graded):
        assert f"kata grade {' '.join(names)} --integration" in step["run"] and "REDIS_URL=" in step["run"]
        assert '"result=$(base64 -w0' in step["run"] and step["timeout-minutes"] == config.timeout_minutes + 1
        assert "timeout -s INT -k 15 270 python -m kata grade" in step["run"] and "--timeout 240 " in step["run"]
    grader = yaml.safe_load(render(stages, both))["jobs"]["run-autograding-tests"]["steps"][3]
    assert "KATA_INTEGRATION=1 REDIS_URL=redis://localhost:6379/0" in grader["with"]["command"]


def test_ci_runs_the_self_check_on_python_3_10_to_3_13_with_redis() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    runs = [step.get("run", "") for step in job["steps"]]
    uses = [step.get("uses", "") for step in job["steps"]]
    assert "actions/checkout@v4" in uses and "actions/setup-python@v5" in uses
    assert any("apt-get install -y" in run and "redis-server" in run for run in runs)
    assert any(run.startswith("make test") for run in runs)


def test_the_workflow_command_checks_and_writes(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--root", str(ROOT), "workflow", "--check"]).exit_code == 0
    out = tmp_path / "classroom.yml"
    written = runner.invoke(main, ["--root", str(ROOT), "workflow", "--partial-credit", "-o", str(out)])
    assert written.exit_code == 0 and "kata grade" in out.read_text()
    stale = runner.invoke(main, ["--root", str(ROOT), "workflow", "--check", "-o", str(out)])
    assert stale.exit_code == 1 and "not what kata/grading.toml gives" in stale.output
