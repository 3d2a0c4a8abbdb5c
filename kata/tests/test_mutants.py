"""The mutation runner: killed, survived, stale and wrong-message mutants are told apart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kata.mutants import Mutant, MutantsError, apply, load_mutants, run_mutants, summary_line

ROOT = Path(__file__).resolve().parents[2]
FILE = "workit/giphy.py"
ANCHOR = "def _fixed_height_url(gif: Any) -> str:\n"


def mutant_toml(id: str, new: str, test: str = "tests/test_giphy.py::*", message: str = "mutant was here", old: str = ANCHOR) -> str:
    return (
        f"[[mutant]]\nid = {id!r}\nwhy = 'a test of the runner'\nfile = {FILE!r}\n"
        f"old = '''{old}'''\nnew = '''{new}'''\ntest = {test!r}\nmessage = {message!r}\n\n"
    )


def test_apply_needs_the_old_text_exactly_once() -> None:
    mutant = Mutant("01_a", "m", "why", FILE, "x = 1", "x = 2", "tests/*", "x")
    assert apply(mutant, "x = 1\n") == "x = 2\n"
    assert apply(mutant, "x = 1\nx = 1\n") is None and apply(mutant, "y = 1\n") is None


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[[mutant]\n", "is not valid TOML"),
        ("[[mutant]]\nid = 'a'\n", "mutant 1 lacks why, file, old, new, test, message"),
        (mutant_toml("a", "x") + mutant_toml("a", "y"), "two mutants are called 'a'"),
    ],
)
def test_a_bad_mutants_file_is_refused_with_the_reason(tmp_path: Path, text: str, complaint: str) -> None:
    (tmp_path / "solutions" / "01_a").mkdir(parents=True)
    (tmp_path / "solutions" / "01_a" / "mutants.toml").write_text(text)
    with pytest.raises(MutantsError, match=complaint):
        load_mutants(tmp_path, "01_a")


def test_a_mutant_says_which_tiers_its_run_needs(tmp_path: Path) -> None:
    (tmp_path / "solutions" / "01_a").mkdir(parents=True)
    (tmp_path / "solutions" / "01_a" / "mutants.toml").write_text(
        mutant_toml("plain", "x") + mutant_toml("hardening", "x") + "reference = true\nintegration = true\n"
    )
    flags = {m.id: (m.integration, m.reference) for m in load_mutants(tmp_path, "01_a")}
    assert flags == {"plain": (False, False), "hardening": (True, True)}


def test_the_runner_sorts_killed_survived_stale_and_wrong_message(tmp_path: Path) -> None:
    for name in ("kata", "conftest.py", "pyproject.toml", "stages/01_sync", "solutions/01_sync"):
        source, target = ROOT / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "tests" if name == "kata" else "-"))
        else:
            shutil.copy2(source, target)
    crash = ANCHOR + "    raise AssertionError('mutant was here')\n"
    (tmp_path / "solutions" / "01_sync" / "mutants.toml").write_text(
        mutant_toml("killed", crash)
        + mutant_toml("survived", ANCHOR.replace(":\n", ":  # a harmless comment\n"))
        + mutant_toml("stale", "x", old="this text is nowhere")
        + mutant_toml("wrong-message", crash, message="a phrase no test says")
        + mutant_toml("wrong-test", crash, test="tests/test_pages.py::*")
    )
    verdicts = {verdict.mutant.id: verdict for verdict in run_mutants(tmp_path, ["01_sync"])}
    assert {name: verdict.status for name, verdict in verdicts.items()} == {
        "killed": "killed",
        "survived": "survived",
        "stale": "stale",
        "wrong-message": "wrong message",
        "wrong-test": "wrong message",
    }
    assert verdicts["wrong-test"].detail.startswith("tests/test_pages.py::* passes; rejected only by tests/")
    assert summary_line(list(verdicts.values())) == "mutants: 1 killed of 5 (1 survived, 1 stale, 2 wrong message)"
    assert (tmp_path / "stages" / "01_sync" / FILE).read_text() == (ROOT / "stages" / "01_sync" / FILE).read_text(), (
        "the learner's stage is never touched"
    )


def test_every_stage_has_at_least_twenty_mutants_that_apply() -> None:
    from kata.layout import all_stages

    for stage in all_stages(ROOT):
        mutants = load_mutants(ROOT, stage.name)
        assert len(mutants) >= 20, f"{stage.name} has {len(mutants)} mutants in solutions/{stage.name}/mutants.toml: write at least 20"
        for mutant in mutants:
            source = (ROOT / "solutions" / stage.name / mutant.file).read_text()
            assert apply(mutant, source) is not None, f"{stage.name}/{mutant.id} is stale: its `old` is not in {mutant.file} once"
