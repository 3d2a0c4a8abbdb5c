"""The self-check's judgement: what counts as a good skeleton failure, and the mirror rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from kata.reports import Outcome
from kata.selfcheck import (
    format_table,
    judge,
    run_selfcheck,
    skeleton_problem,
)
from kata.trees import continuity_problems, mirror_problems

NODE = "stages/01_sync/tests/test_app.py::test_sends"


def outcome(**fields: object) -> Outcome:
    values: dict[str, object] = {"nodeid": NODE, "when": "call", "outcome": "failed"} | fields
    return Outcome(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "failure",
    [
        outcome(exception=("AssertionError", "Exception"), message="expected 1 email, got 0"),
        outcome(exception=("NotImplementedError", "RuntimeError"), message="Step 01_sync: fetch the GIF"),
        outcome(given=True, outcome="passed"),
        outcome(
            exception=("AssertionError",),
            cause=("NotImplementedError",),
            cause_message="Step 01_sync: write the view",
        ),
    ],
    ids=["assertion", "step-not-implemented", "given-passes", "assertion-from-the-step"],
)
def test_intended_skeleton_failures_are_accepted(failure: Outcome) -> None:
    assert skeleton_problem(failure, "01_sync") is None


@pytest.mark.parametrize(
    ("failure", "complaint"),
    [
        (outcome(outcome="passed"), "passes on the untouched skeleton"),
        (outcome(exception=("NotImplementedError",), message="TODO"), "does not name the step"),
        (outcome(exception=("ImportError",), message="cannot import name"), "fails with ImportError"),
        (outcome(exception=("TypeError",), message="NoneType"), "fails with TypeError"),
        (outcome(when="setup", exception=("NotImplementedError",), message="01_sync"), "errors in setup"),
        (outcome(when="collect", message="SyntaxError"), "cannot be collected"),
        (outcome(outcome="skipped", exception=("Skipped",)), "is skipped"),
        (outcome(given=True, exception=("AssertionError",)), "marked `given` but does not pass"),
        (outcome(exception=("Failed",), message="Timeout (>20.0s) from pytest-timeout."), "fails with Failed"),
        (
            outcome(exception=("AssertionError",), cause=("AttributeError",), cause_message="no attribute 'dleay'"),
            "raised from AttributeError",
        ),
    ],
    ids=[
        "passes",
        "unnamed-step",
        "import-error",
        "type-error",
        "setup-error",
        "collect",
        "skip",
        "given-fails",
        "timeout",
        "wrapped-typo",
    ],
)
def test_unintended_skeleton_outcomes_are_reported(failure: Outcome, complaint: str) -> None:
    problem = skeleton_problem(failure, "01_sync")
    assert problem is not None and complaint in problem, f"skeleton_problem({failure}) returned {problem!r}"


def test_judge_counts_a_stage_and_names_each_problem() -> None:
    other = "stages/01_sync/tests/test_app.py::test_form"
    given = "stages/01_sync/tests/test_app.py::test_page"
    solution = [
        Outcome(NODE, "call", "passed"),
        Outcome(other, "setup", "failed", message="fixture 'giphy' not found"),
        Outcome(given, "call", "passed", given=True),
        Outcome("stages/02_redis/tests/test_x.py::test_y", "call", "passed"),
    ]
    skeleton = [
        Outcome(NODE, "call", "failed", exception=("AssertionError",)),
        Outcome(other, "call", "passed"),
        Outcome(given, "call", "passed", given=True),
    ]
    verdict = judge("01_sync", solution, skeleton)
    assert (verdict.tests, verdict.given, verdict.solution_passing, verdict.skeleton_failing) == (3, 1, 2, 1)
    assert verdict.problems == [
        "tests/test_app.py::test_form: failed on the solution (setup): fixture 'giphy' not found",
        ("tests/test_app.py::test_form: passes on the untouched skeleton: it checks nothing the learner "
        "builds (mark it `given` if that is the point)"),
    ]
    assert "01_sync" in format_table([verdict]) and "PROBLEMS" in format_table([verdict])


def make_stage(root: Path, stage: str, skeleton_body: str, solution_body: str, tests: str) -> None:
    for target, body in (("stages", skeleton_body), ("solutions", solution_body)):
        package = root / target / stage / "workit"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(body)
    (root / "stages" / stage / "tests").mkdir()
    (root / "stages" / stage / "tests" / "test_it.py").write_text(tests)


def test_mirror_is_checked_in_both_directions(tmp_path: Path) -> None:
    make_stage(tmp_path, "01_a", "", "", "")
    (tmp_path / "stages" / "01_a" / "workit" / "extra.py").write_text("")
    (tmp_path / "solutions" / "01_a" / "workit" / "templates").mkdir()
    (tmp_path / "solutions" / "01_a" / "workit" / "templates" / "page.html").write_text("")
    (tmp_path / "solutions" / "09_orphan").mkdir()
    assert mirror_problems(tmp_path) == [
        "solutions/09_orphan has no stage stages/09_orphan",
        "stages/01_a/workit/extra.py has no counterpart in solutions/01_a",
        "solutions/01_a/workit/templates/page.html has no counterpart in stages/01_a",
    ]


SOLVED = """def send(email, thought):
    gif = fetch(thought)
    deliver(email, gif)
"""
REWRITTEN = """    # TODO(02_b): nothing to do here
    key = "public-beta-key"
    gif = fetch(thought, key)
    deliver(email, gif)
    log(email)
    audit(email)"""
DOCSTRING_TODO = '''    """TODO(02_b): deliver the email.

    A long explanation
    over several lines
    of what to do and why.
    """
    raise NotImplementedError(
        "Step 02_b: deliver the email"
    )'''


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("skeleton", "expected"),
    [
        (SOLVED, []),
        (SOLVED.replace("    deliver(email, gif)", "    # TODO(02_b): enqueue instead\n    raise NotImplementedError"), []),
        (
            SOLVED.replace("deliver(email, gif)", "deliver(gif, email)"),
            ["stages/02_b/workit/app.py:3 differs from solutions/01_a with no TODO(02_b) nearby"],
        ),
        (SOLVED + "\n\n\n\ndef extra():\n    return 1\n", ["stages/02_b/workit/app.py:8-9 differs from solutions/01_a"]),
        (
            SOLVED.replace("    gif = fetch(thought)\n    deliver(email, gif)", REWRITTEN),
            ["stages/02_b/workit/app.py:6-7 differs from solutions/01_a"],
        ),
        (SOLVED.replace("deliver(email, gif)", "deliver(gif, email)  # TODO: later"), ["stages/02_b/workit/app.py:3 "]),
        (SOLVED.replace("    deliver(email, gif)", DOCSTRING_TODO), []),
    ],
    ids=["unchanged", "todo", "silent-change", "silent-addition", "one-todo-for-a-rewrite", "todo-without-stage", "long-todo"],
)
def test_continuity_needs_a_todo_beside_each_change(tmp_path: Path, skeleton: str, expected: list[str]) -> None:
    write(tmp_path / "solutions" / "01_a" / "workit" / "app.py", SOLVED)
    write(tmp_path / "stages" / "01_a" / "workit" / "app.py", "")
    write(tmp_path / "stages" / "02_b" / "workit" / "app.py", skeleton)
    problems = continuity_problems(tmp_path)
    assert [p[: len(e)] for p, e in zip(problems, expected)] == expected and len(problems) == len(expected), problems


def test_continuity_reports_missing_and_unmarked_new_files(tmp_path: Path) -> None:
    write(tmp_path / "solutions" / "01_a" / "workit" / "app.py", SOLVED)
    write(tmp_path / "stages" / "01_a" / "workit" / "app.py", "")
    write(tmp_path / "stages" / "02_b" / "workit" / "tasks.py", "def task():\n    pass\n")
    write(tmp_path / "stages" / "02_b" / "workit" / "queue.py", "def push():\n    raise NotImplementedError('Step 02_b: push')\n")
    assert continuity_problems(tmp_path) == [
        "stages/02_b/workit/app.py is missing: solutions/01_a has it",
        "stages/02_b/workit/tasks.py is new in this stage but has no TODO(02_b)",
    ]


TESTS = '''
import pytest
from workit import answer


def test_answer():
    assert answer() == 42, "answer() should return 42"


@pytest.mark.given
def test_given():
    assert callable(answer)
'''


@pytest.mark.timeout(180)  # four pytest sessions in subprocesses: slow on a busy machine
def test_selfcheck_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["kata.plugin"]\n')
    pytester.makeini("[pytest]\naddopts = --import-mode=importlib\nmarkers = given: g\n")
    good = 'def answer():\n    raise NotImplementedError("Step 01_good: return 42")\n'
    make_stage(pytester.path, "01_good", good, "def answer():\n    return 42\n", TESTS)
    bad = "def answer():\n    return None.real  # TODO(02_bad): return 41\n"
    make_stage(pytester.path, "02_bad", bad, "def answer():\n    return 41\n", TESTS)
    verdicts, problems = run_selfcheck(pytester.path)
    assert problems == []
    assert [(v.stage, v.tests, v.solution_passing, v.skeleton_failing, v.ok) for v in verdicts] == [
        ("01_good", 2, 2, 1, True),
        ("02_bad", 2, 1, 0, False),
    ]
    solution_failure, skeleton_failure = verdicts[1].problems
    assert solution_failure.startswith("tests/test_it.py::test_answer: failed on the solution (call)")
    assert skeleton_failure.startswith(
        "tests/test_it.py::test_answer: fails with AttributeError, not an assertion or the step's NotImplementedError"
    )


def test_reference_tests_run_on_the_solution_only() -> None:
    beyond = "stages/01_sync/tests/test_app.py::test_csrf"
    solution = [Outcome(NODE, "call", "passed"), Outcome(beyond, "call", "passed", reference=True)]
    skeleton = [Outcome(NODE, "call", "failed", exception=("AssertionError",))]
    verdict = judge("01_sync", solution, skeleton)
    assert (verdict.tests, verdict.reference, verdict.solution_passing, verdict.skeleton_failing, verdict.ok) == (
        2, 1, 2, 1, True,
    )
    leaked = judge("01_sync", solution, [*skeleton, Outcome(beyond, "call", "failed", reference=True)])
    assert leaked.problems == ["tests/test_app.py::test_csrf: is marked `reference` but ran against the skeleton"]
    failing = judge("01_sync", [solution[0], Outcome(beyond, "call", "failed", reference=True)], skeleton)
    assert failing.problems[0].startswith("tests/test_app.py::test_csrf: failed on the solution")
