"""`kata quiz`: the README asks, quiz.toml answers, the learner answers before reading it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kata.cli import main
from kata.feedback import status_lines
from kata.hints import readme_tasks
from kata.layout import Stage, all_stages
from kata.quiz import QuizProgress, load_quiz, parse_choices, quiz_problems, readme_questions, session
from kata.reports import StageResult, TestResult, TestRun

ROOT = Path(__file__).resolve().parents[2]

README = """# Step 01

### Task 1: Queue a job

## Check your understanding

1. Why JSON, when Python
   has pickle?

2. Which of these go in a job: an id, a request?

## Next
"""
QUIZ = """[[question]]
number = 1
answer = '''Any language reads it, and nothing runs code while reading it.'''

[[question]]
number = 2
choices = ["an id", "a request"]
correct = [1]
answer = '''An id: a request lives only while it is served.'''
"""


def make_stage(root: Path, readme: str = README, quiz: str = QUIZ) -> Stage:
    (root / "stages" / "01_a" / "tests").mkdir(parents=True)
    (root / "stages" / "01_a" / "README.md").write_text(readme)
    (root / "stages" / "01_a" / "quiz.toml").write_text(quiz)
    return Stage(root, "01_a")


def feed(lines: list[str]):  # a reader for kata.quiz.ask, and the prompts it was given
    asked: list[str] = []
    pending = list(lines)

    def read(prompt: str) -> str | None:
        asked.append(prompt)
        return pending.pop(0) if pending else None

    return read, asked


def test_the_readme_keeps_the_questions_and_quiz_toml_the_answers(tmp_path: Path) -> None:
    stage = make_stage(tmp_path)
    assert readme_questions(README) == {1: "Why JSON, when Python has pickle?", 2: "Which of these go in a job: an id, a request?"}
    first, second = load_quiz(stage)
    assert first.text == "Why JSON, when Python has pickle?" and first.answer.startswith("Any language")
    assert second.choices == ("an id", "a request") and second.right((1,)) and not second.right((1, 2))
    assert quiz_problems(stage) == []


@pytest.mark.parametrize(
    ("readme", "quiz", "complaint"),
    [
        (README.replace("2. Which", "Which"), QUIZ, "asks 1 numbered questions; ask two to four"),
        (README.replace("has pickle?", "has pickle?\n   <details><summary>Answer</summary>x</details>"), QUIZ, "holds a folded <details> answer"),
        (README, QUIZ.replace("number = 2", "number = 3"), "answers for questions [1, 3], but stages/01_a/README.md asks [1, 2]"),
        (README, QUIZ.replace("'''Any language reads it, and nothing runs code while reading it.'''", "''' '''"), "question 1 has no answer"),
        (README + "\nAny language reads it, and nothing runs code while reading it.\n", QUIZ, "question 1's answer stands in the README"),
        (README, QUIZ.replace("correct = [1]", "correct = [3]"), "`correct` lists the right ones, 1 to 2"),
        (README, "", "has no [[question]] tables"),
    ],
    ids=["one-question", "folded-answer", "answer-numbers", "empty-answer", "answered-in-readme", "bad-correct", "no-answers"],
)
def test_the_quiz_rules_each_name_what_is_wrong(tmp_path: Path, readme: str, quiz: str, complaint: str) -> None:
    problems = quiz_problems(make_stage(tmp_path, readme, quiz))
    assert any(complaint in problem for problem in problems), problems


def test_every_stage_has_its_answers_apart_and_its_readme_prints_none() -> None:
    for stage in all_stages(ROOT):
        readme = (ROOT / "stages" / stage.name / "README.md").read_text()
        assert "<details>" not in readme, stage.name
        questions = load_quiz(stage)
        assert 2 <= len(questions) <= max(4, len(readme_tasks(stage))), stage.name
        for question in questions:
            first_words = " ".join(question.answer.split()[:8])
            assert first_words not in " ".join(readme.split()), (stage.name, question.number)


def test_the_model_answer_comes_only_after_the_learners_and_is_kept(tmp_path: Path) -> None:
    stage = make_stage(tmp_path)
    out: list[str] = []
    read, asked = feed(["", "pickle runs code", "x", "3", "2"])
    assert session(tmp_path, [stage], None, False, read, out.append) == 0
    text = "\n".join(out)
    assert text.index("Why JSON") < text.index("Write your answer first") < text.index("Any language reads it")
    assert "Pick by number, 1 to 2." in text and "Not quite: the answer is 1." in text
    assert text.index("Which of these") < text.index("1. an id") < text.index("An id: a request")
    assert len(asked) == 5 and "2 of 2 questions of 01_a answered" in text
    kept = json.loads((tmp_path / ".kata" / "quiz.json").read_text())
    assert kept["01_a"]["1"]["answer"] == "pickle runs code" and kept["01_a"]["2"] == {**kept["01_a"]["2"], "answer": "2", "right": False}


def test_the_end_of_input_stops_the_quiz_and_the_next_run_goes_on(tmp_path: Path) -> None:
    stage = make_stage(tmp_path)
    out: list[str] = []
    read, _ = feed(["my answer"])
    session(tmp_path, [stage], stage, False, read, out.append)
    assert "Stopped: 1 of 2 questions of 01_a answered" in "\n".join(out)
    out.clear()
    read, _ = feed(["a"])
    session(tmp_path, [stage], None, False, read, out.append)
    text = "\n".join(out)
    assert "Why JSON" not in text and "Which of these" in text and "Right: 1." in text
    out.clear()
    read, _ = feed([])
    session(tmp_path, [stage], None, False, read, out.append)
    assert "You have answered every stage's questions" in out[0]


@pytest.mark.parametrize(("text", "picked"), [("1 3", (1, 3)), ("3,1", (1, 3)), ("a c", (1, 3)), ("4", None), ("one", None), ("", None)])
def test_choices_are_picked_by_number_or_letter(text: str, picked: tuple[int, ...] | None) -> None:
    assert parse_choices(text, 3) == picked


def test_status_shows_how_many_questions_each_stage_has_answered(tmp_path: Path) -> None:
    stage = make_stage(tmp_path)
    QuizProgress(tmp_path).record("01_a", 2, "1", True)
    run = TestRun([StageResult("01_a", [TestResult("stages/01_a/tests/test_a.py::test_a", status="failed")])], 1, "", 0.1)
    lines = [click_free(line) for line in status_lines(tmp_path, [stage], run, "stages")]
    header = next(line for line in lines if "passing" in line)
    row = next(line for line in lines if line.startswith("  01_a "))
    assert "quiz" in header and re.search(r"0/1\s+1/2\s+to do", row), row
    assert any("kata quiz 01" in line and "1/2 answered" in line for line in lines)


def click_free(line: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", line)


def test_kata_quiz_reads_answers_from_stdin_without_a_terminal(tmp_path: Path) -> None:
    copy = tmp_path / "kata"
    shutil.copytree(ROOT / "stages" / "01_sync", copy / "stages" / "01_sync", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "conftest.py").write_text("")
    (copy / "solutions").mkdir()
    result = CliRunner().invoke(main, ["--root", str(copy), "quiz", "01"], input="the email\n1 3\n")
    assert result.exit_code == 0, result.output
    first = load_quiz(Stage(copy, "01_sync"))[0]
    assert result.output.index("the email") < result.output.index(first.answer.split()[0] + " " + first.answer.split()[1])
    assert "Right: 1 and 3." in result.output and "Stopped: 2 of 4" in result.output
    assert set(QuizProgress(copy).answered("01_sync")) == {1, 2}
