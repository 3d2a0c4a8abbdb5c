"""The target switch: each stage's tests import their own `workit`, in any order, in one process."""

from __future__ import annotations

import pytest

CONFTEST = 'pytest_plugins = ["kata.plugin"]\n'
INI = "[pytest]\naddopts = --import-mode=importlib -p no:cacheprovider\n"

STAGE_TESTS = '''
from workit import WHERE
import workit.names


def test_module_level_import_is_this_stages():
    assert WHERE == "{target}/{stage}"


def test_lazy_import_is_this_stages():
    import workit
    from workit.names import WHO

    assert (workit.WHERE, WHO) == ("{target}/{stage}", "{stage} in {target}")


def test_submodule_imported_at_module_level_still_matches():
    assert workit.names.WHO == "{stage} in {target}"


def test_fixture_import_is_this_stages(stage_package):
    assert stage_package.WHERE == "{target}/{stage}"
'''

FIXTURE = '''
import pytest


@pytest.fixture
def stage_package():
    import workit

    return workit
'''

STAGES = ("01_alpha", "02_beta", "03_gamma")


@pytest.fixture
def tree(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST + FIXTURE)
    for stage in STAGES:
        for target in ("stages", "solutions"):
            package = pytester.path / target / stage / "workit"
            package.mkdir(parents=True)
            (package / "__init__.py").write_text(f'WHERE = "{target}/{stage}"\n')
            (package / "names.py").write_text(f'WHO = "{stage} in {target}"\n')
        (pytester.path / "stages" / stage / "tests").mkdir()
    return pytester


def write_tests(tree: pytest.Pytester, target: str) -> None:
    for stage in STAGES:
        for part in ("a", "b"):
            path = tree.path / "stages" / stage / "tests" / f"test_{part}.py"
            path.write_text(STAGE_TESTS.format(stage=stage, target=target))


@pytest.mark.parametrize(
    ("order", "tests"),
    [
        (["stages/01_alpha", "stages/02_beta", "stages/03_gamma"], 24),
        (["stages/03_gamma", "stages/01_alpha", "stages/02_beta"], 24),
        (
            [  # interleaved: back to a stage whose modules were put aside
                "stages/02_beta/tests/test_a.py",
                "stages/01_alpha/tests/test_a.py",
                "stages/02_beta/tests/test_b.py",
                "stages/01_alpha/tests/test_b.py",
            ],
            16,
        ),
    ],
    ids=["forward", "shuffled", "interleaved"],
)
def test_each_stage_imports_its_own_workit(tree: pytest.Pytester, order: list[str], tests: int) -> None:
    write_tests(tree, "stages")
    tree.runpytest_inprocess(*order).assert_outcomes(passed=tests)


def test_solutions_flag_switches_every_stage(tree: pytest.Pytester) -> None:
    write_tests(tree, "solutions")
    tree.runpytest_inprocess("stages", "--solutions").assert_outcomes(passed=24)


def test_environment_variable_switches_every_stage(tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tests(tree, "solutions")
    monkeypatch.setenv("KATA_TARGET", "solutions")
    tree.runpytest_inprocess("stages").assert_outcomes(passed=24)


def test_unknown_target_is_a_usage_error(tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tests(tree, "stages")
    monkeypatch.setenv("KATA_TARGET", "solution")
    result = tree.runpytest_inprocess("stages")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*KATA_TARGET='solution' is not a target*"])


def test_missing_package_names_the_directory(tree: pytest.Pytester) -> None:
    write_tests(tree, "stages")
    for path in sorted((tree.path / "stages" / "01_alpha" / "workit").iterdir()):
        path.unlink()
    (tree.path / "stages" / "01_alpha" / "workit").rmdir()
    result = tree.runpytest_inprocess("stages/01_alpha")
    result.stdout.fnmatch_lines(["*No package 'workit' in *stages/01_alpha*"])


CELERY_TASKS = '''
from celery import shared_task


@shared_task(name="workit.tasks.which")
def which() -> str:
    return "{stage}"


@shared_task(name="workit.tasks.only_{stage}")
def only() -> str:
    return "{stage}"
'''

CELERY_TEST = '''
from celery import Celery


def test_shared_task_is_this_stages():
    import workit.tasks  # registers the shared task

    app = Celery("t{stage}", set_as_current=False)
    app.finalize()
    assert sorted(name for name in app.tasks if name.startswith("workit.")) == [
        "workit.tasks.only_{stage}",
        "workit.tasks.which",
    ]
    assert app.tasks["workit.tasks.which"]() == "{stage}"
'''


def test_celery_shared_tasks_stay_with_their_stage(tree: pytest.Pytester) -> None:
    pytest.importorskip("celery")
    for stage in STAGES[:2]:
        package = tree.path / "stages" / stage / "workit"
        (package / "tasks.py").write_text(CELERY_TASKS.format(stage=stage))
        test = tree.path / "stages" / stage / "tests" / "test_celery.py"
        test.write_text(CELERY_TEST.format(stage=stage))
    result = tree.runpytest_inprocess("stages/01_alpha", "stages/02_beta")
    result.assert_outcomes(passed=2)


def test_importing_workit_at_the_top_of_a_conftest_is_explained(tree: pytest.Pytester) -> None:
    write_tests(tree, "stages")
    (tree.path / "stages" / "01_alpha" / "tests" / "conftest.py").write_text("import workit\n")
    result = tree.runpytest_inprocess("stages/01_alpha")
    assert result.ret != 0
    assert "not at the top of a conftest.py" in result.stdout.str() + result.stderr.str()
