"""Failures are explained: the machine's problems are not the learner's, and say the fix."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from kata.explain import environment_problem, explain, explain_broken
from kata.feedback import check_lines
from kata.hints import SeenHints
from kata.layout import Stage
from kata.reports import StageResult, TestResult, TestRun

ROOT = Path(__file__).resolve().parents[2]
REDIS_DOWN = ("ConnectionError", "RedisError", "Exception", "BaseException", "object")


def failed(name: str = "tests/test_x.py::test_y", **fields: object) -> TestResult:
    values: dict[str, object] = {"nodeid": f"stages/01_sync/{name}", "status": "failed", "phase": "call"} | fields
    return TestResult(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("test", "headline", "fix"),
    [
        (
            failed(exception=("StackError", "RuntimeError"), message="redis-server is not installed (apt-get install redis-server) and REDIS_URL is not set", phase="setup"),
            "Redis is not available",
            "sudo apt-get install redis-server",
        ),
        (failed(exception=("StackError",), message="maildump is not installed: run `make venv`"), "maildump is not installed", "make venv"),
        (
            failed(exception=("OSError",), message="[Errno 98] error while attempting to bind on address ('127.0.0.1', 5000): address already in use"),
            "a port is already in use",
            "ss -ltnp",
        ),
        (
            failed(exception=REDIS_DOWN, message="Error 111 connecting to 127.0.0.1:6379. Connection refused.", integration=True),
            "Redis is not reachable",
            "redis-cli ping",
        ),
        (
            failed(
                exception=("StackError",), integration=True,
                message="celery worker (/k/stages/04_enqueue): not ready after 30 s\n[ERROR] consumer: Cannot connect to "
                "redis://127.0.0.1:6379/0: Error 111 connecting to 127.0.0.1:6379. Connection refused.",
            ),
            "Redis is not available: celery worker (/k/stages/04_enqueue): not ready after 30 s",
            "redis-server",
        ),
    ],
    ids=["no-redis-server", "no-maildump", "port-in-use", "redis-unreachable", "worker-cannot-reach-redis"],
)
def test_environment_problems_are_recognised_with_their_fix(test: TestResult, headline: str, fix: str) -> None:
    found = environment_problem(test)
    assert found is not None and found.environment
    assert found.headline.startswith(headline) and fix in found.fix


@pytest.mark.parametrize(
    "test",
    [
        failed(exception=REDIS_DOWN, message="FakeRedis is emulating a connection error.", integration=True),
        failed(exception=REDIS_DOWN, message="Error 111 connecting to localhost:6379. Connection refused."),
        failed(exception=("StackError",), message="flask (/k/stages/01_sync): the process exited with code 1"),
        failed(
            exception=("StackError",), integration=True,
            message="celery worker (/k/stages/03_worker): not ready after 30 s\n- ** transport: redis://127.0.0.1:6379/0\n"
            "ImportError: cannot import name 'celery_app' from 'workit.worker'",
        ),
        failed(exception=("AssertionError",), message="expected 1 email, got 0"),
    ],
    ids=["fake-redis-down-on-purpose", "unit-test-reaching-for-a-real-redis", "learner-app-does-not-start", "learner-worker-does-not-start", "assertion"],
)
def test_the_learners_own_failures_are_not_blamed_on_the_machine(test: TestResult) -> None:
    assert environment_problem(test) is None


def test_failures_are_explained_by_kind() -> None:
    assert explain(failed(exception=("NotImplementedError",), message="Step 01_sync: write it")).headline == "not written yet: Step 01_sync: write it"
    timeout = explain(failed(exception=("Failed",), message="Timeout (>20.0s) from pytest-timeout."))
    assert timeout.kind == "timeout" and "waits forever" in timeout.fix
    long = explain(failed(exception=("AssertionError",), message="\n".join(f"line {n}" for n in range(20))))
    assert long.headline.endswith("... (14 more lines)")
    assert explain(failed(exception=("KeyError",), message="'data'")).headline == "KeyError: 'data'"
    broken = explain_broken(
        'stages/01_sync/tests/test_giphy.py:9: in <module>\n    from workit.giphy import fetch_gif_url\n'
        'E     File "/home/me/kata/stages/01_sync/workit/giphy.py", line 12\nE       def broken(:\nE   SyntaxError: invalid syntax'
    )
    assert broken.kind == "import" and "SyntaxError: invalid syntax" in broken.headline
    assert broken.headline.endswith("at stages/01_sync/workit/giphy.py:12")
    missing = explain_broken(
        "stages/01_sync/tests/test_x.py:3: in <module>\n    from workit import x\n"
        "stages/01_sync/workit/__init__.py:4: in <module>\n    from workit.nope import y\nE   ModuleNotFoundError: No module named 'workit.nope'"
    )
    assert "ModuleNotFoundError: No module named 'workit.nope'" in missing.headline
    assert missing.headline.endswith("at stages/01_sync/workit/__init__.py:4")


def test_check_says_an_environment_problem_is_not_the_learners_failure(tmp_path: Path) -> None:
    redis = failed(
        "tests/test_real_stack.py::test_the_request_waits",
        exception=("StackError",), message="redis-server is not installed (apt-get install redis-server) and REDIS_URL is not set",
        phase="setup", integration=True,
    )  # fmt: skip
    result = StageResult("01_sync", [redis, failed(status="passed")])
    run = TestRun([result], 1, "", 0.1)
    lines = click.unstyle("\n".join(check_lines(ROOT, Stage(ROOT, "01_sync"), result, run, SeenHints(tmp_path))))
    assert "Environment problem, not your code (1 test): Redis is not available" in lines
    assert "Fix: Install and start Redis" in lines
    assert "First failure" not in lines and "Your code may well be right" in lines


def test_a_run_that_collected_nothing_is_a_problem_not_done(tmp_path: Path) -> None:
    from kata.layout import Stage
    from kata.runner import _assemble

    stage = Stage(tmp_path, "01_sync")
    stage.tests_dir.mkdir(parents=True)
    (stage.tests_dir / "test_app.py").write_text("def test_it():\n    pass\n")
    run = _assemble([stage], [], [], 1, "ImportError: No module named 'fakeredis'", 0.1, False, None)
    assert "no test ran" in run.problem and "fakeredis" in run.problem, run.problem
