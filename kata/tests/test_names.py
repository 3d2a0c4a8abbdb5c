"""The library names a stage hands over before the API hint (kata giveaway --names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kata import giveaway
from kata.cli import main
from kata.giveaway import StageNames, library_names, names_problems, names_reports, nudge_names, stage_names
from kata.layout import Stage

ROOT = Path(__file__).resolve().parents[2]

SKELETON = '''"""Jobs."""

import json

from celery import shared_task


def enqueue(client, name):
    """Push the job (README, task 1)."""
    raise NotImplementedError("Step 01_a, task 1: write enqueue() in workit/jobs.py")


def next_job(client, timeout):
    """The oldest job (README, task 2)."""
    raise NotImplementedError("Step 01_a, task 2: write next_job() in workit/jobs.py")
'''
SOLUTION = '''"""Jobs."""

import json

from celery import shared_task


def enqueue(client, name):
    """Push the job."""
    client.lpush(KEY, json.dumps({"job": name}))


@shared_task(acks_late=True)
def next_job(client, timeout):
    """The oldest job."""
    found = client.brpop([KEY], timeout=timeout)
    return enqueue(client, found.get("name").strip())
'''
HINTS = """[[task]]
task = 1
tests = ["tests/test_a.py"]
nudge = '''Which end of the list? Think of `lpush`.'''
api = "a"
sketch = "b"
"""


def make_stage(root: Path, skeleton: str = SKELETON, readme: str = "# Step\\n", tests: str = "def test_a():\\n    pass\\n") -> Stage:
    for where, text in (("stages", skeleton), ("solutions", SOLUTION)):
        package = root / where / "01_a" / "workit"
        package.mkdir(parents=True)
        (package / "jobs.py").write_text(text)
    (root / "stages" / "01_a" / "tests").mkdir()
    (root / "stages" / "01_a" / "tests" / "test_a.py").write_text(tests)
    (root / "stages" / "01_a" / "README.md").write_text(readme)
    (root / "stages" / "01_a" / "hints.toml").write_text(HINTS)
    return Stage(root, "01_a")


def test_the_names_are_methods_keywords_decorators_not_the_katas_own_or_builtin_methods() -> None:
    lines = set(range(1, 40))
    own = {"enqueue", "next_job", "KEY", "client", "timeout", "name", "found", "jobs"}
    found = library_names(SOLUTION, lines, own)
    assert {"lpush", "dumps", "shared_task", "acks_late", "brpop"} <= set(found)
    assert found["acks_late"] == "acks_late=" and found["shared_task"] == "@shared_task" and found["brpop"] == ".brpop("
    assert "get" not in found and "strip" not in found and "enqueue" not in found, "builtin methods and the kata's own names do not count"


def test_a_name_is_handed_over_where_it_stands(tmp_path: Path) -> None:
    skeleton = SKELETON.replace('"""The oldest job (README, task 2)."""', '"""TODO: client.brpop([KEY], timeout=timeout)."""')
    readme = "# Step\n\nSet `acks_late=True` on the task.\n\nacks_late in prose is fine; dumps too.\n"
    tests = 'def test_a():\n    assert True, "the job must come from json.dumps"\n'
    report = stage_names(make_stage(tmp_path, skeleton, readme, tests))
    assert report.handed["brpop"] == ["skeleton"] and report.handed["acks_late"] == ["README"]
    assert report.handed["lpush"] == ["nudge"] and report.handed["dumps"] == ["tests"]
    assert "shared_task" in report.handed, "the skeleton imports it"
    assert nudge_names(Stage(tmp_path, "01_a"), report) == ["stages/01_a/hints.toml: task 1's nudge names .lpush("]


@pytest.mark.parametrize(("handed", "stage_over", "total_over"), [(5, True, True), (3, False, True), (2, False, False)])
def test_the_limits_are_forty_percent_a_stage_and_twenty_five_in_all(handed: int, stage_over: bool, total_over: bool) -> None:
    names = {f"n{i}": f".n{i}(" for i in range(10)}
    report = StageNames("01_a", names, {name: ["README"] for name in list(names)[:handed]})
    problems = names_problems([report])
    assert any("(at most 40%)" in p for p in problems) is stage_over and any("(at most 25%)" in p for p in problems) is total_over


def test_the_limit_is_enforced_once_the_kata_keeps_it() -> None:
    """Report-only while stages exceed it (the self-check prints it); enforce it once none does."""
    over = names_problems(names_reports(ROOT))
    assert giveaway.NAMES_ENFORCED or over, "no stage exceeds the names limits any more: set NAMES_ENFORCED = True"
    assert not giveaway.NAMES_ENFORCED or not over, over


def test_kata_giveaway_names_lists_each_stages_names_and_only_reports_the_limits() -> None:
    result = CliRunner().invoke(main, ["--root", str(ROOT), "giveaway", "--names", "02"])
    assert result.exit_code == (1 if giveaway.NAMES_ENFORCED and names_problems(names_reports(ROOT)) else 0), result.output
    assert "02_redis:" in result.output and ".brpop(" in result.output and "\n  01_sync:" not in result.output
    assert "names  handed  share" in result.output


def test_a_name_found_in_an_earlier_stage_is_not_counted_again(tmp_path: Path) -> None:
    make_stage(tmp_path)
    later = SOLUTION + '''

def requeue(client):
    """Again."""
    client.lpush(KEY, json.dumps({"job": "again"}))
    return client.rpoplpush(KEY, KEY)
'''
    for where in ("stages", "solutions"):
        package = tmp_path / where / "02_b" / "workit"
        package.mkdir(parents=True)
        (package / "jobs.py").write_text(SOLUTION if where == "stages" else later)
    (tmp_path / "stages" / "02_b" / "tests").mkdir()
    (tmp_path / "stages" / "02_b" / "README.md").write_text("# Step\n\nUse `lpush` again.\n")
    reports = {report.stage: report for report in names_reports(tmp_path)}
    assert "lpush" in reports["01_a"].names
    assert set(reports["02_b"].names) == {"rpoplpush"}, "lpush and dumps were found in 01_a; rpoplpush is new"
    assert reports["02_b"].handed == {}, "naming a name found before hands nothing over"
