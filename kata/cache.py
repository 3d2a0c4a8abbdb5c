"""Never rerun what did not change: a stage's last result, keyed by everything it depends on.

The key is a hash of the content the result depends on: the stage's `workit` for the target,
its tests, hints and conftests, the root conftest and pyproject, the `kata` package, the
Python and the installed packages' versions, the target and the pytest arguments, and the
environment variables the tests read. A changed file changes the key, so a result can never
drift from the code: the stage is run again, and only that stage.

Results live in `.kata/results/` (ignored by git). A run with an environment problem, a
time-out or a pytest failure is never kept, nor is the integration tier (it depends on
services outside the files). A cache file that cannot be read is ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from kata.layout import PACKAGE, Stage
from kata.reports import BrokenFile, StageResult, TestResult, TestRun

CACHE_DIR = Path(".kata") / "results"
FORMAT = 1
ENVIRONMENT = ("REDIS_URL", "GIPHY_API_KEY", "GIPHY_API_URL", "KATA_INTEGRATION", "KATA_CHROMIUM")
SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
_packages: str | None = None


def installed_packages() -> str:
    """`name==version` of every installed distribution, sorted (computed once per process)."""
    global _packages
    if _packages is None:
        # The dist-info directories' names hold name and version (PEP 427/376): reading them
        # is milliseconds, parsing every METADATA file is half a second.
        found: set[str] = set()
        for entry in sys.path:
            try:
                with os.scandir(entry or ".") as listing:
                    found |= {item.name.lower() for item in listing if item.name.endswith((".dist-info", ".egg-info"))}
            except OSError:
                continue
        _packages = "\n".join(sorted(found))
    return _packages


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and not SKIPPED_PARTS & set(path.parts) and path.suffix != ".pyc"
    )


def inputs(stage: Stage, target: str) -> list[Path]:
    """Every file the stage's result depends on."""
    root = stage.root
    stage_dir = root / "stages" / stage.name
    own = [path for path in _files(stage_dir) if PACKAGE not in path.relative_to(stage_dir).parts[:1]]
    code = _files(stage.code_dir(target) / PACKAGE)
    machinery = [path for path in _files(root / "kata") if "tests" not in path.relative_to(root / "kata").parts[:1]]
    top = [root / name for name in ("conftest.py", "pyproject.toml") if (root / name).is_file()]
    return own + code + machinery + top


def key(stage: Stage, target: str, pytest_args: tuple[str, ...], environ: dict[str, str]) -> str:
    digest = hashlib.sha256()
    header = {
        "format": FORMAT,
        "stage": stage.name,
        "target": target,
        "args": list(pytest_args),
        "python": sys.version,
        "executable": sys.executable,
        "environment": {name: environ.get(name) for name in ENVIRONMENT},
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(installed_packages().encode())
    for path in inputs(stage, target):
        digest.update(path.relative_to(stage.root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _path(root: Path, stage: str, target: str) -> Path:
    return root / CACHE_DIR / f"{stage}-{target}.json"


def load(root: Path, stage: str, target: str, wanted: str) -> StageResult | None:
    """The kept result for that key, or None (none kept, another key, or unreadable)."""
    try:
        data = json.loads(_path(root, stage, target).read_text(encoding="utf-8"))
        if data.get("key") != wanted:
            return None
        names = {f.name for f in fields(TestResult)}
        tests = [TestResult(**{k: tuple(v) if k == "exception" else v for k, v in t.items() if k in names}) for t in data["tests"]]
        broken = [BrokenFile(b["nodeid"], b["message"]) for b in data["broken"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return StageResult(stage, tests, broken)


def keepable(result: StageResult, run: TestRun, pytest_args: tuple[str, ...]) -> bool:
    """Only a clean, complete, unit-tier run is kept."""
    from kata.explain import environment_problem

    if run.problem or run.timed_out or "--integration" in pytest_args or not result.tests:
        return False
    if any(test.status == "not run" or test.integration for test in result.tests):
        return False
    return not any(environment_problem(test) for test in result.failures)


def store(root: Path, result: StageResult, target: str, wanted: str) -> None:
    path = _path(root, result.stage, target)
    data: dict[str, Any] = {
        "key": wanted,
        "tests": [asdict(test) for test in result.tests],
        "broken": [{"nodeid": b.nodeid, "message": b.message} for b in result.broken],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only checkout just runs the tests every time


def kept(root: Path, stage: Stage, target: str = "stages", pytest_args: tuple[str, ...] = ()) -> StageResult | None:
    """The stage's kept result for its files as they are now, or None."""
    return load(root, stage.name, target, key(stage, target, pytest_args, dict(os.environ)))


def cached_run(
    root: Path,
    stages: list[Stage],
    target: str,
    pytest_args: tuple[str, ...],
    run: Callable[[list[Stage]], TestRun],
    say: Callable[[str], None],
    refresh: bool = False,
) -> TestRun:
    """`run` the stages whose inputs changed since their last clean run (every stage with
    `refresh`), keep their new results where they may be kept, and give every stage's result
    in order: the kept ones and the fresh ones. `say` tells which stages were not run again."""
    keys = {stage.name: key(stage, target, pytest_args, dict(os.environ)) for stage in stages}
    found = {stage.name: None if refresh else load(root, stage.name, target, keys[stage.name]) for stage in stages}
    stale = [stage for stage in stages if found[stage.name] is None]
    if len(stale) < len(stages):
        same = [name for name, result in found.items() if result is not None]
        say(f"{', '.join(same)}: nothing changed since the last run, not run again")
    if stale:
        done = run(stale)
        for stage in stale:
            result = done.stage(stage.name)
            if keepable(result, done, pytest_args):
                store(root, result, target, keys[stage.name])
    else:
        done = TestRun([], 0, "", 0.0)
    fresh = {result.stage: result for result in done.stages}
    ordered = [found[stage.name] or fresh[stage.name] for stage in stages]
    return dataclasses.replace(done, stages=ordered)
