"""What a test does where a service is missing (kata/services.py): skipped with a recognisable
reason and named in the run's last lines; under KATA_REQUIRE_SERVICES=1 (CI), a failure."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kata.layout import Stage
from kata.runner import _assemble
from kata.selfcheck import Outcome, format_table, judge
from kata.services import (
    HIDE_ENV,
    NOT_RUN_ENV,
    REQUIRE_ENV,
    NotRun,
    chromium_path,
    install_command,
    read_not_run,
    service_of,
    skip_reason,
    summary_lines,
    write_not_run,
)

ROOT = Path(__file__).resolve().parents[2]
BROWSER = "stages/06_status/tests/test_status_page_browser.py::test_the_status_page"
POSTGRES = "stages/06_status/tests/test_task_real_stack.py::test_a_form[postgresql]"


@pytest.fixture(autouse=True)
def no_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    """This file's tests set the switches they mean; none from the shell or from `make test`."""
    for name in (REQUIRE_ENV, HIDE_ENV, NOT_RUN_ENV):
        monkeypatch.delenv(name, raising=False)


def test_the_reason_names_the_service_and_the_command() -> None:
    reason = skip_reason("chromium", "the browser test drives a headless Chromium")
    assert reason.startswith("kata: missing service chromium (")
    assert reason.endswith("to run it: sudo apt-get install chromium")
    assert service_of(reason) == "chromium"
    assert service_of(f"Skipped: {skip_reason('postgresql', 'no initdb')}") == "postgresql"
    for other in ("needs make", "the warm runner forks: Linux only", "kata: playwright is not installed", ""):
        assert service_of(other) is None, other
    assert install_command(["postgresql", "chromium", "chromium"]) == "sudo apt-get install chromium postgresql"


def test_the_summary_names_each_test_and_one_command() -> None:
    assert summary_lines([]) == []
    lines = summary_lines([NotRun(POSTGRES, "postgresql"), NotRun(BROWSER, "chromium"), NotRun(BROWSER, "chromium")])
    assert lines == [
        "2 tests did not run here, for want of chromium and postgresql (skipped, not failed):",
        f"  - {BROWSER} (needs chromium)",
        f"  - {POSTGRES} (needs postgresql)",
        "To run them: sudo apt-get install chromium postgresql",
    ]


def test_each_run_writes_what_it_left_out_and_make_test_lists_them_all(tmp_path: Path) -> None:
    write_not_run(tmp_path, "pytest", [NotRun(BROWSER, "chromium")])
    write_not_run(tmp_path, "selfcheck", [])
    assert read_not_run(tmp_path) == [NotRun(BROWSER, "chromium")]
    shown = subprocess.run([sys.executable, "-m", "kata.services", str(tmp_path)], capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines()[-1] == "To run it: sudo apt-get install chromium"
    write_not_run(tmp_path, "pytest", [])  # the next run had everything
    shown = subprocess.run([sys.executable, "-m", "kata.services", str(tmp_path)], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "Every test ran: no service was missing."


def test_a_hidden_service_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from kata.stack import postgres_binaries, redis_server_binary

    monkeypatch.setenv("KATA_CHROMIUM", "/usr/bin/true")
    assert chromium_path() == "/usr/bin/true"
    monkeypatch.setenv(HIDE_ENV, "chromium, postgresql,redis-server")
    assert (chromium_path(), postgres_binaries(), redis_server_binary()) == (None, None, None)


# --- pytest: the last lines, and the switch ------------------------------------------------

TESTS = '''
import pytest
from kata.services import missing

def test_on_the_browser():
    missing("chromium", "drives a headless Chromium")

def test_skipped_for_another_reason():
    pytest.skip("needs make")

def test_plain():
    assert True
'''


def run_pytest(tmp_path: Path, *env: tuple[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    (tmp_path / "test_it.py").write_text(textwrap.dedent(TESTS))
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["kata.plugin"]\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider -rs\n")
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **dict(env)}
    for name in (REQUIRE_ENV, HIDE_ENV, NOT_RUN_ENV):
        if name not in dict(env):
            environ.pop(name, None)
    command = [sys.executable, "-m", "pytest", "-q", str(tmp_path)]
    return subprocess.run(command, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120, check=False)


def test_pytest_skips_for_a_missing_service_and_names_it_last(tmp_path: Path) -> None:
    done = run_pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-3:]
    assert last == [
        "1 test did not run here, for want of chromium (skipped, not failed):",
        "  - test_it.py::test_on_the_browser (needs chromium)",
        "To run it: sudo apt-get install chromium",
    ], done.stdout
    assert "1 passed, 2 skipped" in done.stdout


def test_under_make_test_pytest_leaves_the_list_to_make_test(tmp_path: Path) -> None:
    folder = tmp_path / "not-run"
    done = run_pytest(tmp_path, (NOT_RUN_ENV, str(folder)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "1 test(s) not run here for want of a service: listed at the end."
    assert read_not_run(folder) == [NotRun("test_it.py::test_on_the_browser", "chromium")]


def test_kata_require_services_makes_the_skip_a_failure(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, (REQUIRE_ENV, "1"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed, 1 skipped" in done.stdout, done.stdout
    assert "chromium is missing (drives a headless Chromium) and KATA_REQUIRE_SERVICES=1 makes that a failure" in done.stdout
    assert "did not run here" not in done.stdout


def test_the_integration_tier_refuses_the_embedded_redis_under_the_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kata.stack_fixtures import own_redis_process

    monkeypatch.setenv(HIDE_ENV, "redis-server")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="KATA_REQUIRE_SERVICES=1 refuses the stand-in"), own_redis_process(tmp_path, "r"):
        pass


# --- the self-check and the learner's runner -------------------------------------------------


def test_the_selfcheck_lists_a_service_skip_and_fails_any_other(monkeypatch: pytest.MonkeyPatch) -> None:
    skipped = Outcome(POSTGRES, "setup", "skipped", exception=("Skipped",), message=skip_reason("postgresql", "no initdb"))
    other = Outcome(BROWSER, "setup", "skipped", exception=("Skipped",), message="needs make")
    verdict = judge("06_status", [skipped], [skipped])
    assert (verdict.ok, verdict.solution_passing, verdict.skeleton_failing) == (True, 0, 0)
    assert verdict.not_run == [NotRun(POSTGRES, "postgresql")]
    assert "1 not run: no postgresql" in format_table([verdict])
    elsewhere = judge("06_status", [other], [other])
    assert elsewhere.problems == [
        "tests/test_status_page_browser.py::test_the_status_page: skipped on the solution (setup): needs make",
        "tests/test_status_page_browser.py::test_the_status_page: is skipped on the skeleton: needs make",
    ]
    monkeypatch.setenv(REQUIRE_ENV, "1")
    strict = judge("06_status", [skipped], [skipped])
    assert len(strict.problems) == 2 and all("though KATA_REQUIRE_SERVICES=1" in p for p in strict.problems), strict.problems


def test_the_learner_s_runner_leaves_a_service_skip_out_of_the_count(tmp_path: Path) -> None:
    stage = Stage(tmp_path, "06_status")
    collected = [{"nodeid": n, "filename": "", "line_no": 0, "test_code": "", "given": False, "integration": True} for n in (BROWSER, POSTGRES)]
    entries = [
        {"type": "collected", "tests": collected},
        *({"type": "done", "nodeid": n, "outcome": "skipped", "duration": 0.0, "where": "", "output": ""} for n in (BROWSER, POSTGRES)),
    ]
    outcomes = [
        Outcome(BROWSER, "setup", "skipped", exception=("Skipped",), message=skip_reason("chromium", "a browser")),
        Outcome(POSTGRES, "setup", "skipped", exception=("Skipped",), message="needs make"),
    ]
    run = _assemble([stage], entries, outcomes, 0, "", 1.0, False, None)
    result = run.stage("06_status")
    assert [t.nodeid for t in result.not_run] == [BROWSER]
    assert [t.nodeid for t in result.tests] == [POSTGRES] and result.failures == result.tests


SERVICE_TESTS = '''
import pytest
from kata.services import missing
from workit import answer

def test_answer():
    assert answer() == 42, "answer() should return 42"

@pytest.fixture
def browser():
    missing("chromium", "drives a headless Chromium")

def test_in_the_browser(browser):
    assert answer() == 42
'''


@pytest.mark.timeout(180)  # two pytest sessions in subprocesses: slow on a busy machine
def test_the_selfcheck_names_what_did_not_run_in_its_last_lines(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from kata.cli import main

    pytester.makeconftest('pytest_plugins = ["kata.plugin"]\n')
    pytester.makeini("[pytest]\naddopts = --import-mode=importlib\nmarkers = given: g\n")
    for target, body in (("stages", 'def answer():\n    raise NotImplementedError("Step 01_a: return 42")\n'), ("solutions", "def answer():\n    return 42\n")):
        (pytester.path / target / "01_a" / "workit").mkdir(parents=True)
        (pytester.path / target / "01_a" / "workit" / "__init__.py").write_text(body)
    (pytester.path / "stages" / "01_a" / "tests").mkdir()
    (pytester.path / "stages" / "01_a" / "tests" / "test_it.py").write_text(SERVICE_TESTS)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    shown = CliRunner().invoke(main, ["--root", str(pytester.path), "selfcheck"])
    # The tree has no README or hints (problems of their own); what matters is what comes last.
    assert "test_in_the_browser: " not in shown.output, shown.output  # not one of the problems
    assert shown.output.strip().splitlines()[-3:] == [
        "1 test did not run here, for want of chromium (skipped, not failed):",
        "  - stages/01_a/tests/test_it.py::test_in_the_browser (needs chromium)",
        "To run it: sudo apt-get install chromium",
    ], shown.output
    assert "ok (1 not run: no chromium)" in shown.output or "PROBLEMS (1 not run: no chromium)" in shown.output, shown.output
