"""kata watch's bookkeeping: which saved files count, and how many stages the bar says are done."""

from __future__ import annotations

from pathlib import Path

import pytest

from kata.reports import StageResult, TestResult
from kata.watch import changed_names, is_editor_temporary, progress_bar, stages_done


@pytest.mark.parametrize(
    "name",
    ["sedAb12Cd", "sedX9y8Z7", "4913", ".views.py.swp", ".views.py.swx", "views.py~", ".#views.py", "#views.py#", "views.py.tmp",
     "views.py___jb_tmp___", ".goutputstream-ABC123", "views.cpython-311.pyc"],
)  # fmt: skip
def test_editors_temporary_files_are_not_changes(name: str) -> None:
    assert is_editor_temporary(f"/kata/stages/02_redis/workit/{name}")


@pytest.mark.parametrize("name", ["views.py", "sed.py", "seder.py", "sedation", "index.html", "hints.toml", "test_jobs.py"])
def test_the_learners_files_are_changes(name: str) -> None:
    assert not is_editor_temporary(f"/kata/stages/02_redis/workit/{name}")


def test_a_sed_edit_reports_the_file_it_edited_and_a_temporary_only_batch_reports_nothing(tmp_path: Path) -> None:
    workit = tmp_path / "stages" / "02_redis" / "workit"
    sed_i = {(1, str(workit / "sedQw3rTy")), (2, str(workit / "jobs.py")), (3, str(workit / "sedQw3rTy"))}
    assert changed_names(sed_i, tmp_path) == ["stages/02_redis/workit/jobs.py"]
    assert changed_names({(1, str(workit / "sedQw3rTy")), (3, str(workit / "4913"))}, tmp_path) == []


def result(stage: str, passed: bool) -> StageResult:
    return StageResult(stage, [TestResult(f"stages/{stage}/tests/test_a.py::test_a", status="passed" if passed else "failed", phase="call")])


def test_the_bar_counts_the_watchs_latest_result_before_a_kept_one() -> None:
    names = ["01_sync", "02_redis", "03_worker", "04_enqueue"]
    kept = {"01_sync": result("01_sync", True), "02_redis": result("02_redis", True), "03_worker": result("03_worker", True), "04_enqueue": result("04_enqueue", False)}
    assert stages_done(names, {}, kept.get) == 3
    latest = {"04_enqueue": result("04_enqueue", True)}  # just passed, e.g. under --integration: not kept
    assert stages_done(names, latest, kept.get) == 4
    assert progress_bar(stages_done(names, latest, kept.get), 8).endswith("4 of 8 stages done")
    assert stages_done(names, {"01_sync": result("01_sync", False)}, kept.get) == 2, "a stage broken again counts as not done"
