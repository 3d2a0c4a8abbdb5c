"""pytest says why it deselected tests, and when --integration adds nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from kata.deselection import deselection_lines
from kata.layout import all_stages

ROOT = Path(__file__).resolve().parents[2]


def collect(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
        env={**__import__("os").environ, "KATA_TARGET": "stages", "KATA_INTEGRATION": ""},
    )  # fmt: skip
    return done.stdout + done.stderr


def test_the_deselected_tests_are_counted_by_the_marker_and_the_option_that_brings_them_back() -> None:
    out = collect("stages/04_enqueue")
    total = int(re.search(r"\((\d+) deselected\)", out).group(1))
    integration = int(re.search(r"(\d+) deselected: marked integration, which run only with --integration", out).group(1))
    reference = int(re.search(r"(\d+) deselected: marked reference: the finished app's hardening beyond the steps", out).group(1))
    assert integration and reference and integration + reference == total, out


def test_integration_on_a_stage_without_an_integration_tier_says_it_adds_nothing() -> None:
    without = [s.name for s in all_stages(ROOT) if not any("integration" in p.read_text() for p in s.tests_dir.rglob("*.py"))]
    assert without, "every stage has an integration tier now: drop this test and the README's sentence"
    out = collect(f"stages/{without[0]}", "--integration")
    assert "--integration adds nothing here: none of these tests is marked integration" in out, out
    assert "adds nothing" not in collect("stages/01_sync", "--integration")


def test_the_readme_names_the_stages_whose_integration_option_adds_nothing() -> None:
    without = [s.name[:2] for s in all_stages(ROOT) if not any("integration" in p.read_text() for p in s.tests_dir.rglob("*.py"))]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"{' and '.join(without)} have none, so there `--integration` adds nothing" in readme


def test_nothing_deselected_says_nothing() -> None:
    assert deselection_lines({}, False) == []
    assert deselection_lines({"other": 2}, False) == ["2 deselected: left out by -k or -m"]
