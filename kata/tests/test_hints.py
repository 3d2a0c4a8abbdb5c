"""Hints: one hints.toml per stage, tied to tests; the self-check refuses empty or missing ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kata.hints import (
    Hint,
    SeenHints,
    hint_for_failure,
    hint_problems,
    load_hints,
    next_hint,
    order_key,
    pattern_matches,
)
from kata.layout import Stage, all_stages
from kata.selfcheck import hints_problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("tests/test_giphy.py", "tests/test_giphy.py::test_x", True),
        ("tests/test_giphy.py", "tests/test_giphy.py", True),
        ("tests/test_giphy.py", "tests/test_giphy_more.py::test_x", False),
        ("tests/test_email.py::test_deliver_*", "tests/test_email.py::test_deliver_gives_a_timeout", True),
        ("tests/test_email.py::test_deliver_*", "tests/test_email.py::test_the_headers", False),
        ("tests/test_v.py::*[line-break]", "tests/test_v.py::test_refused[line-break]", True),
        ("tests/test_v.py::*[line-break]", "tests/test_v.py::test_refused[l]", False),
        ("tests/*.py::test_a", "tests/test_one.py::test_a", True),
    ],
)
def test_patterns_name_files_or_tests_and_only_star_is_a_wildcard(pattern: str, name: str, expected: bool) -> None:
    assert pattern_matches(pattern, name) is expected


HINTS = [
    Hint(1, "start with giphy", ("tests/test_giphy.py",)),
    Hint(2, "requests.get", ("tests/test_giphy.py",)),
    Hint(3, "build the email", ("tests/test_email.py",)),
    Hint(4, "the view", ("tests/test_mailers.py",)),
]


def test_the_next_hint_helps_with_a_failing_test_and_is_new() -> None:
    failing = ["tests/test_email.py::test_headers", "tests/test_mailers.py::test_post"]
    assert next_hint(HINTS, [], failing).number == 3
    assert next_hint(HINTS, [3], failing).number == 4
    assert next_hint(HINTS, [3, 4], failing).number == 1  # nothing new for what fails: in order
    assert next_hint(HINTS, [1, 2, 3, 4], failing) is None
    assert next_hint(HINTS, [1], []).number == 2


def test_check_shows_the_furthest_seen_hint_of_a_failure_without_using_up_the_next() -> None:
    name = "tests/test_giphy.py::test_search"
    assert hint_for_failure(HINTS, [], name).number == 1
    assert hint_for_failure(HINTS, [1], name).number == 1
    assert hint_for_failure(HINTS, [1, 2, 3], name).number == 2
    assert hint_for_failure(HINTS, [], "tests/test_other.py::test_x") is None


def test_failures_are_ordered_the_way_the_hints_walk_through_them() -> None:
    names = ["tests/test_mailers.py::a", "tests/test_email.py::b", "tests/test_other.py::c", "tests/test_giphy.py::d"]
    assert sorted(names, key=lambda n: order_key(HINTS, n)) == [names[3], names[1], names[0], names[2]]


def test_seen_hints_are_remembered_per_stage(tmp_path: Path) -> None:
    seen = SeenHints(tmp_path)
    assert seen.seen("01_sync") == []
    seen.mark("01_sync", 2)
    seen.mark("01_sync", 2)
    seen.mark("02_redis", 1)
    assert SeenHints(tmp_path).seen("01_sync") == [2]
    SeenHints(tmp_path).forget("01_sync")
    assert SeenHints(tmp_path).seen("01_sync") == [] and SeenHints(tmp_path).seen("02_redis") == [1]
    (tmp_path / ".kata" / "hints-seen.json").write_text("not json")
    assert SeenHints(tmp_path).seen("02_redis") == []


def fake_stage(root: Path, hints_toml: str | None, readme: str = "### Task 1: Answer\n") -> Stage:
    tests = root / "stages" / "01_a" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_it.py").write_text("def test_answer():\n    pass\n\ndef test_other():\n    pass\n")
    (root / "stages" / "01_a" / "README.md").write_text(readme)
    if hints_toml is not None:
        (root / "stages" / "01_a" / "hints.toml").write_text(hints_toml)
    return Stage(root, "01_a")


TASK = "[[task]]\ntask = 1\ntests = ['tests/test_it.py']\nnudge = 'why?'\napi = 'str.join'\nsketch = 'join ___'\n"


@pytest.mark.parametrize(
    ("hints_toml", "complaints"),
    [
        (None, ["stages/01_a/hints.toml is missing: every stage needs hints"]),
        ("# nothing\n", ["stages/01_a/hints.toml has no [[task]] tables: every stage needs hints"]),
        ("[[task]\n", ["stages/01_a/hints.toml is not valid TOML"]),
        ("[[hint]]\ntests = ['tests/test_it.py']\ntext = 'x'\n", ["stages/01_a/hints.toml uses [[hint]] tables"]),
        (TASK.replace("api = 'str.join'", "api = '   '"), ["stages/01_a/hints.toml: task 1 has no api level"]),
        (TASK.replace("sketch = 'join ___'\n", ""), ["stages/01_a/hints.toml: task 1 has no sketch level"]),
        (TASK.replace("tests = ['tests/test_it.py']\n", ""), ["stages/01_a/hints.toml: task 1 names no tests"]),
        (TASK.replace("'why?'", "'```x = 1```'"), ["stages/01_a/hints.toml: task 1's nudge holds a code block"]),
        (
            TASK.replace("tests/test_it.py", "tests/test_gone.py"),
            ["stages/01_a/hints.toml: task 1's test pattern 'tests/test_gone.py' names 'tests/test_gone.py', which is no test file"],
        ),
        (
            TASK.replace("tests/test_it.py", "tests/test_it.py::test_nope*"),
            ["stages/01_a/hints.toml: task 1's test pattern 'tests/test_it.py::test_nope*' matches no test function"],
        ),
        (
            TASK + TASK.replace("task = 1", "task = 3"),
            ["stages/01_a/hints.toml: the tasks are numbered [1, 3]", "stages/01_a/hints.toml: tasks [1, 3], but"],
        ),
        (TASK + TASK.replace("task = 1", "task = 2"), ["stages/01_a/hints.toml: tasks [1, 2], but stages/01_a/README.md"]),
        (TASK.replace("tests/test_it.py", "tests/test_it.py::test_ans*[x]") + "code = 'print(1)'\n", []),
    ],
    ids=[
        "missing", "no-tasks", "bad-toml", "old-format", "empty-level", "missing-level", "no-tests", "code-in-nudge",
        "unknown-file", "unknown-test", "numbering", "not-in-readme", "good",
    ],
)
def test_the_self_check_refuses_tasks_without_levels_tests_or_readme_heading(
    tmp_path: Path, hints_toml: str | None, complaints: list[str]
) -> None:
    stage = fake_stage(tmp_path, hints_toml)
    problems = hint_problems(stage)
    assert len(problems) == len(complaints), problems
    for problem, complaint in zip(problems, complaints):
        assert problem.startswith(complaint), problem
    assert hints_problems(tmp_path) == problems


def test_a_task_gives_its_levels_in_order_and_the_code_last(tmp_path: Path) -> None:
    two = TASK + "code = 'the code'\n" + TASK.replace("task = 1", "task = 2").replace("tests/test_it.py", "tests/test_it.py::test_other")
    stage = fake_stage(tmp_path, two, readme="### Task 1: A\n\n### Task 2: B\n")
    hints = load_hints(stage)
    assert [(h.task, h.level, h.levels) for h in hints] == [(1, 1, 4), (1, 2, 4), (1, 3, 4), (1, 4, 4), (2, 1, 3), (2, 2, 3), (2, 3, 3)]
    assert [h.level_name for h in hints[:4]] == ["a nudge", "the API", "a sketch", "the code"]
    assert hints[3].text == "the code" and hints[0].label == "Task 1, hint 1 of 4 (a nudge)"
    assert next_hint(hints, [], ["tests/test_it.py::test_other"]).label.startswith("Task 1, hint 1"), "file patterns match"
    assert next_hint(hints, [1, 2, 3, 4], ["tests/test_it.py::test_other"]).label.startswith("Task 2, hint 1")


def test_every_stage_of_the_kata_has_levelled_hints_for_every_task() -> None:
    assert hints_problems(ROOT) == []
    for stage in all_stages(ROOT):
        hints = load_hints(stage)
        readme = (ROOT / "stages" / stage.name / "README.md").read_text()
        assert f"kata hint {stage.name[:2]}" in readme, f"{stage.name}'s README does not point at `kata hint`"
        for hint in hints:
            prose = [re.sub(r"\(?https?://\S+", "", line).strip() for line in hint.text.splitlines()]
            lines = [line for line in prose if len(line) >= 30 and not line.startswith("```")]
            copied = [line for line in lines if line in readme]
            assert not copied, f"{stage.name}: task {hint.task}'s {hint.level_name} is also in the README: {copied[0]!r}"


def test_the_hint_kata_check_shows_unasked_is_not_counted_as_seen(tmp_path: Path) -> None:
    """`kata check` shows the failing task's nudge; `kata hint` must still start from it."""
    from kata.feedback import check_lines
    from kata.reports import StageResult, TestResult, TestRun

    stage = Stage(ROOT, "02_redis")
    first = load_hints(stage)[0]
    pattern = first.tests[0]
    test_file = pattern.split("::")[0]
    name = pattern.split("::")[1].replace("*", "x") if "::" in pattern else "test_x"
    failing = TestResult(
        nodeid=f"stages/02_redis/{test_file}::{name}", filename=f"stages/02_redis/{test_file}", status="failed", phase="call",
        message="AssertionError: not yet",
    )  # fmt: skip
    result = StageResult("02_redis", [failing])
    seen = SeenHints(tmp_path)
    lines = "\n".join(check_lines(ROOT, stage, result, TestRun([result], 1, "", 0.1), seen, review=False))
    assert first.text.splitlines()[0] in lines, lines
    assert seen.seen("02_redis") == []
