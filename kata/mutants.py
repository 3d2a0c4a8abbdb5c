"""The mutation suite: plausible wrong solutions that the stage's tests must reject.

Each stage's mutants live beside its reference, in `solutions/NN_x/mutants.toml` (a student
template has no solutions/, so it never shows them):

    [[mutant]]
    id = "untrimmed-thought"
    why = "the thought is used as typed, spaces and all"     # the misconception
    file = "workit/views.py"                                  # inside solutions/NN_x/
    old = '''thought = form.get("thought", "").strip()'''     # must occur exactly once
    new = '''thought = form.get("thought", "")'''
    test = "tests/test_mailers.py::test_the_thought_is_trimmed*"   # a kata.hints pattern
    message = "trim"          # the expected test's failure message must say this
    integration = false       # true: caught only by the real stack (--integration)
    reference = false         # true: caught by a test marked reference (run with --reference)

`python -m kata mutants [STAGE...]` copies the kata into a temporary directory per mutant,
puts the mutated reference in the place of the learner's `workit`, runs the stage's tests
as a learner's code is run (no `reference` tests, unless the mutant says `reference = true`),
and sorts each mutant:

- killed: the expected test fails, and its message holds the phrase;
- wrong message: rejected, but not by the expected test, or by a message without the phrase
  (the tests reject the mistake without explaining it);
- survived: every test passes;
- stale: `old` is not in the file exactly once (the reference moved on: fix the mutant).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kata.hints import pattern_matches
from kata.layout import PACKAGE, Stage, all_stages
from kata.runner import run_tests

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MUTANTS_FILE = "mutants.toml"
TIME_LIMIT = 180.0  # seconds per mutant; a run stopped by it counts as rejected by a timeout
COPIED = ("kata", "conftest.py", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".kata", "tests", "golden")
REQUIRED = ("id", "why", "file", "old", "new", "test", "message")


class MutantsError(ValueError):
    """A mutants.toml that cannot be used."""


@dataclass(frozen=True)
class Mutant:
    stage: str
    id: str
    why: str
    file: str
    old: str
    new: str
    test: str
    message: str
    integration: bool = False
    reference: bool = False


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    status: str  # killed, survived, stale, wrong message
    detail: str = ""
    seconds: float = 0.0


def mutants_path(root: Path, stage: str) -> Path:
    return root / "solutions" / stage / MUTANTS_FILE


def load_mutants(root: Path, stage: str) -> list[Mutant]:
    path = mutants_path(root, stage)
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise MutantsError(f"solutions/{stage}/{MUTANTS_FILE} is not valid TOML: {error}") from None
    mutants, seen = [], set()
    for number, entry in enumerate(data.get("mutant", []), start=1):
        missing = [key for key in REQUIRED if not isinstance(entry.get(key), str) or not entry[key].strip()]
        if missing:
            raise MutantsError(f"solutions/{stage}/{MUTANTS_FILE}: mutant {number} lacks {', '.join(missing)}")
        if entry["id"] in seen:
            raise MutantsError(f"solutions/{stage}/{MUTANTS_FILE}: two mutants are called {entry['id']!r}")
        seen.add(entry["id"])
        fields = {key: entry[key] for key in REQUIRED}
        flags = {flag: bool(entry.get(flag, False)) for flag in ("integration", "reference")}
        mutants.append(Mutant(stage, **fields, **flags))
    return mutants


def apply(mutant: Mutant, source: str) -> str | None:
    """The mutated source, or None when `old` is not in it exactly once (a stale mutant)."""
    if source.count(mutant.old) != 1:
        return None
    return source.replace(mutant.old, mutant.new)


def _copy_kata(root: Path, stage: str, destination: Path) -> None:
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        elif source.is_file():
            shutil.copy2(source, destination / name)
    shutil.copytree(root / "stages" / stage, destination / "stages" / stage, ignore=shutil.ignore_patterns("__pycache__", PACKAGE))
    shutil.copytree(root / "solutions" / stage / PACKAGE, destination / "stages" / stage / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))


def run_mutant(root: Path, mutant: Mutant, time_limit: float = TIME_LIMIT) -> Verdict:
    started = time.monotonic()
    target = root / "solutions" / mutant.stage / mutant.file
    mutated = apply(mutant, target.read_text(encoding="utf-8")) if target.is_file() else None
    if mutated is None:
        return Verdict(mutant, "stale", f"`old` is not in solutions/{mutant.stage}/{mutant.file} exactly once")
    with tempfile.TemporaryDirectory(prefix=f"kata-mutant-{mutant.stage}-") as tmp:
        copy = Path(tmp)
        _copy_kata(root, mutant.stage, copy)
        (copy / "stages" / mutant.stage / mutant.file).write_text(mutated, encoding="utf-8")
        args = tuple(f"--{flag}" for flag in ("integration", "reference") if getattr(mutant, flag))
        run = run_tests(copy, [Stage(copy, mutant.stage)], target="stages", pytest_args=args, time_limit=time_limit)
    seconds = time.monotonic() - started
    result = run.stage(mutant.stage)
    if run.problem and not run.timed_out:
        return Verdict(mutant, "wrong message", f"the run itself failed: {run.problem.splitlines()[0]}", seconds)
    failing = sorted(result.failures, key=lambda test: test.given)  # the step's own tests first
    if not failing and not result.broken and not run.timed_out:
        return Verdict(mutant, "survived", "every test passes", seconds)
    expected = [test for test in failing if pattern_matches(mutant.test, test.name)]
    phrase = mutant.message.lower()
    if any(phrase in test.message.lower() for test in expected):
        return Verdict(mutant, "killed", expected[0].name, seconds)
    if expected:
        return Verdict(mutant, "wrong message", f"{expected[0].name} says: {expected[0].message.strip()[:160]!r}", seconds)
    others = ", ".join(test.name for test in failing[:3]) or (result.broken[0].name if result.broken else "a timeout")
    return Verdict(mutant, "wrong message", f"{mutant.test} passes; rejected only by {others}", seconds)


def run_mutants(root: Path, stages: list[str] | None = None, workers: int = 2, progress=None) -> list[Verdict]:
    names = stages or [stage.name for stage in all_stages(root)]
    mutants = [mutant for name in names for mutant in load_mutants(root, name)]
    verdicts: list[Verdict] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for verdict in pool.map(lambda m: run_mutant(root, m), mutants):
            verdicts.append(verdict)
            if progress is not None:
                progress(verdict)
    return verdicts


def summary_line(verdicts: list[Verdict]) -> str:
    count = {status: sum(v.status == status for v in verdicts) for status in ("killed", "survived", "stale", "wrong message")}
    return (
        f"mutants: {count['killed']} killed of {len(verdicts)} ({count['survived']} survived, "
        f"{count['stale']} stale, {count['wrong message']} wrong message)"
    )


def format_table(verdicts: list[Verdict]) -> str:
    stages = sorted({v.mutant.stage for v in verdicts})
    lines = [f"  {'stage':<14}{'mutants':>8}{'killed':>8}{'survived':>10}{'stale':>7}{'wrong msg':>11}"]
    for stage in stages:
        mine = [v for v in verdicts if v.mutant.stage == stage]
        count = {status: sum(v.status == status for v in mine) for status in ("killed", "survived", "stale", "wrong message")}
        lines.append(
            f"  {stage:<14}{len(mine):>8}{count['killed']:>8}{count['survived']:>10}{count['stale']:>7}{count['wrong message']:>11}"
        )
    return "\n".join(lines)


MARKS = {"killed": ".", "survived": "S", "stale": "?", "wrong message": "W"}  # progress, one per mutant


def report_lines(verdicts: list[Verdict], workers: int, seconds: float) -> list[str]:
    """What `kata mutants` prints after the run: the table, each mutant not killed, the time, the summary."""
    bad = [v for v in verdicts if v.status != "killed"]
    lines = [format_table(verdicts)]
    for verdict in bad:
        lines.append(f"  {verdict.status:<13} {verdict.mutant.stage}/{verdict.mutant.id}: {verdict.mutant.why}")
        lines.append(f"                {verdict.detail}")
    slowest = max(verdicts, key=lambda v: v.seconds)
    lines.append(f"\nmutants took {seconds:.1f} s ({workers} at a time; slowest {slowest.mutant.id}, {slowest.seconds:.1f} s)")
    lines.append(summary_line(verdicts))
    lines.append(f"mutants: {len(verdicts) - len(bad)} passed, {len(bad)} failed")
    return lines
