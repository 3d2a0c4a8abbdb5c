"""What a stage says to the learner: tasks, questions with their answers kept apart, and little of the code given away."""

from __future__ import annotations

from pathlib import Path

import pytest

from kata.giveaway import giveaway_problems, giveaway_reports, learner_lines, stage_giveaway, stands_in
from kata.layout import Stage
from kata.project import todo_files
from kata.stage_text import guidance_problems, stage_guidance_problems

ROOT = Path(__file__).resolve().parents[2]

SOLUTION = '''"""Jobs."""

import json


def enqueue(client, name, *args):
    """Push the job."""
    # a comment long enough to count if comments counted
    client.lpush(JOBS_KEY, json.dumps({"job": name, "args": list(args)}))
    x = 1
'''
SKELETON = '''"""Jobs."""

import json


def enqueue(client, name, *args):
    """Push the job (README, task 1)."""
    raise NotImplementedError("Step 01_a, task 1: write enqueue() in workit/jobs.py")
'''
README = """# Step 01

## Your tasks

### Task 1: Queue a job

Write `enqueue` in `workit/jobs.py`.

## Check your understanding

1. Why JSON?
2. Why a list?
"""
QUIZ = """[[question]]
number = 1
answer = "Any language reads it."

[[question]]
number = 2
answer = "Order."
"""


def make_stage(root: Path, skeleton: str = SKELETON, readme: str = README, solution: str = SOLUTION, quiz: str = QUIZ) -> Stage:
    for where, text in (("stages", skeleton), ("solutions", solution)):
        package = root / where / "01_a" / "workit"
        package.mkdir(parents=True)
        (package / "jobs.py").write_text(text)
    (root / "stages" / "01_a" / "tests").mkdir()
    (root / "stages" / "01_a" / "README.md").write_text(readme)
    (root / "stages" / "01_a" / "quiz.toml").write_text(quiz)
    return Stage(root, "01_a")


def test_the_learners_lines_leave_out_docstrings_comments_imports_and_short_lines() -> None:
    lines = [line.strip() for _, line in learner_lines(SKELETON, SOLUTION, python=True)]
    assert lines == ['client.lpush(JOBS_KEY, json.dumps({"job": name, "args": list(args)}))']


@pytest.mark.parametrize(
    ("text", "given"),
    [
        ("push `client.lpush(JOBS_KEY, json.dumps({\"job\": name, \"args\": list(args)}))`", True),
        ("call client.lpush(JOBS_KEY,  json.dumps({'job': ...", False),  # under 80% in one run
        ("clientlpush", False),
    ],
)
def test_a_line_is_given_away_when_most_of_it_stands_in_the_text(text: str, given: bool) -> None:
    line = 'client.lpush(JOBS_KEY, json.dumps({"job": name, "args": list(args)}))'
    assert stands_in(line, "".join(text.split())) is given


def test_a_dictating_skeleton_is_measured_and_refused(tmp_path: Path) -> None:
    dictated = SKELETON.replace(
        "(README, task 1).", 'TODO: client.lpush(JOBS_KEY, json.dumps({"job": name, "args": list(args)})).'
    )
    report = stage_giveaway(make_stage(tmp_path, skeleton=dictated))
    assert report.learner_lines == 1 and len(report.given) == 1 and report.share == 1.0
    assert report.given[0].path == "solutions/01_a/workit/jobs.py" and report.given[0].line_no == 9
    problems = giveaway_problems([report])
    assert problems[0].startswith("01_a: 100% of the learner's 1 lines") and "at most 10%" in problems[1]


def test_a_taught_skeleton_gives_nothing_away(tmp_path: Path) -> None:
    stage = make_stage(tmp_path)
    assert stage_giveaway(stage).given == [] and giveaway_problems(giveaway_reports(tmp_path)) == []
    assert stage_guidance_problems(stage) == []


@pytest.mark.parametrize(
    ("skeleton", "readme", "complaint"),
    [
        (SKELETON, README.replace("### Task 1", "### One"), "README.md has no `### Task N: ...` headings"),
        (SKELETON, README.split("## Check")[0], "has no `## Check your understanding` section"),
        (SKELETON.replace(", task 1:", ":"), README, "must start 'Step 01_a, task N:'"),
        (SKELETON.replace("task 1:", "task 7:"), README, "names task 7, which the README does not have"),
        (SKELETON + "\n# TODO(01_a): done for you: the key.\n", README, "a TODO that is done for you; mark it NEW(01_a)"),
    ],
    ids=["no-tasks", "no-questions", "raise-without-task", "raise-unknown-task", "done-for-you-todo"],
)
def test_the_guidance_rules_each_name_what_is_wrong(tmp_path: Path, skeleton: str, readme: str, complaint: str) -> None:
    problems = stage_guidance_problems(make_stage(tmp_path, skeleton=skeleton, readme=readme))
    assert problems and complaint in problems[0], problems
    also = ["NotImplementedError names task 1, which the README does not have"] if "Task N" in complaint else []
    assert [p.split(": ", 1)[1] for p in problems[1:]] == also, problems


def test_what_a_stage_provides_is_not_counted_as_work_left(tmp_path: Path) -> None:
    stage = make_stage(tmp_path, skeleton=SKELETON + "\n# NEW(01_a): the key, provided.\nKEY = 'k'\n")
    (todo,) = todo_files(tmp_path, stage)
    assert todo.steps == 1 and todo.notes == 0 and todo.describe() == "1 to write"


def test_every_stage_of_the_kata_teaches_rather_than_dictates() -> None:
    assert guidance_problems(ROOT) == []
