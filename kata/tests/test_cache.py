"""The result cache: any change to what a stage's result depends on reruns it; nothing else does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kata import cache
from kata.layout import Stage
from kata.reports import StageResult, TestResult, TestRun

ROOT = Path(__file__).resolve().parents[2]
STAGE = "02_redis"


@pytest.fixture
def kata_copy(tmp_path: Path) -> Stage:
    for name in ("kata", "conftest.py", "pyproject.toml", f"stages/{STAGE}", f"solutions/{STAGE}"):
        source, target = ROOT / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)
    return Stage(tmp_path, STAGE)


def key(stage: Stage, target: str = "stages", args: tuple[str, ...] = (), environ: dict[str, str] | None = None) -> str:
    return cache.key(stage, target, args, environ or {})


def touch(path: Path) -> None:
    path.write_text(path.read_text() + "\n# changed\n")


def test_nothing_changed_gives_the_same_key(kata_copy: Stage) -> None:
    before_compiled = key(kata_copy)
    assert key(kata_copy) == before_compiled
    (kata_copy.root / "stages" / STAGE / "workit" / "__pycache__").mkdir(exist_ok=True)
    (kata_copy.root / "stages" / STAGE / "workit" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert key(kata_copy) == before_compiled, "compiled files are not inputs"


@pytest.mark.parametrize(
    "changed",
    [
        "stages/02_redis/workit/jobs.py",
        "stages/02_redis/workit/templates/index.html",
        "stages/02_redis/tests/test_jobs.py",
        "stages/02_redis/tests/conftest.py",
        "kata/fixtures.py",
        "conftest.py",
        "pyproject.toml",
    ],
)
def test_a_change_to_any_input_file_changes_the_key(kata_copy: Stage, changed: str) -> None:
    before = key(kata_copy)
    touch(kata_copy.root / changed)
    assert key(kata_copy) != before


def test_the_reference_code_is_not_an_input_of_the_learners_result(kata_copy: Stage) -> None:
    before, reference = key(kata_copy), key(kata_copy, "solutions")
    touch(kata_copy.root / "solutions" / STAGE / "workit" / "jobs.py")
    assert key(kata_copy) == before and key(kata_copy, "solutions") != reference


def test_the_target_arguments_environment_and_packages_are_inputs(kata_copy: Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    before = key(kata_copy)
    assert key(kata_copy, "solutions") != before
    assert key(kata_copy, args=("-k", "jobs")) != before
    assert key(kata_copy, environ={"REDIS_URL": "redis://elsewhere:6379/0"}) != before
    assert key(kata_copy, environ={"HOME": "/elsewhere"}) == before, "only the variables the tests read"
    assert "redis-" in cache.installed_packages() and ".dist-info" in cache.installed_packages()
    monkeypatch.setattr(cache, "_packages", cache.installed_packages().replace("redis-", "redis-0.0.0+", 1))
    assert key(kata_copy) != before


def result(*tests: TestResult) -> StageResult:
    return StageResult(STAGE, list(tests))


PASSED = TestResult(f"stages/{STAGE}/tests/test_jobs.py::test_a", status="passed")
FAILED = TestResult(f"stages/{STAGE}/tests/test_jobs.py::test_b", status="failed", exception=("AssertionError",), message="no")


def test_a_stored_result_comes_back_for_its_key_only(kata_copy: Stage) -> None:
    root = kata_copy.root
    cache.store(root, result(PASSED, FAILED), "stages", "k1")
    loaded = cache.load(root, STAGE, "stages", "k1")
    assert loaded is not None and loaded.tests == [PASSED, FAILED]
    assert cache.load(root, STAGE, "stages", "k2") is None and cache.load(root, STAGE, "solutions", "k1") is None


@pytest.mark.parametrize("content", ["{not json", '{"key": "k1"}', '{"key": "k1", "tests": [{"bogus": 1}], "broken": []}', "[]"])
def test_a_corrupted_cache_file_is_ignored(kata_copy: Stage, content: str) -> None:
    path = kata_copy.root / cache.CACHE_DIR / f"{STAGE}-stages.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    assert cache.load(kata_copy.root, STAGE, "stages", "k1") is None


def test_only_a_clean_unit_tier_run_is_kept() -> None:
    clean = TestRun([result(PASSED, FAILED)], 1, "", 1.0)
    assert cache.keepable(clean.stages[0], clean, ())
    assert not cache.keepable(clean.stages[0], clean, ("--integration",))
    assert not cache.keepable(clean.stages[0], TestRun(clean.stages, 1, "", 1.0, timed_out=True), ())
    assert not cache.keepable(clean.stages[0], TestRun(clean.stages, 3, "", 1.0, problem="pytest crashed"), ())
    machine = TestResult(PASSED.nodeid, status="failed", phase="setup", exception=("StackError",), message="redis-server is not installed")
    assert not cache.keepable(result(machine), TestRun([result(machine)], 1, "", 1.0), ()), "the machine's problem is not kept"
    assert not cache.keepable(result(), TestRun([result()], 5, "", 1.0), ()), "no test ran"
