"""Where the kata is, which stage a learner means, and what is left to write in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kata.layout import PACKAGE, Stage, all_stages

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class KataError(Exception):
    """A problem the learner can fix, said in one or two sentences (no traceback)."""


def is_kata_root(path: Path) -> bool:
    return (path / "stages").is_dir() and ((path / "solutions").is_dir() or (path / "conftest.py").is_file())


def find_root(start: Path | None = None) -> Path:
    """The kata root: the first directory from `start` upward with stages/ and solutions/
    (or conftest.py, as in a student template), else the one this package belongs to."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if is_kata_root(candidate):
            return candidate
    if is_kata_root(PACKAGE_ROOT):
        return PACKAGE_ROOT
    raise KataError(
        f"No kata here: neither {here} nor a directory above it has stages/ and solutions/. "
        "Run kata from inside the Work-It Kata repository, or pass --root."
    )


def stages_of(root: Path) -> list[Stage]:
    stages = [stage for stage in all_stages(root) if stage.tests_dir.is_dir() or (stage.code_dir("stages") / PACKAGE).is_dir()]
    if not stages:
        raise KataError(f"{root / 'stages'} holds no stage (directories such as 01_sync).")
    return stages


def resolve_stage(root: Path, text: str) -> Stage:
    """`03`, `3`, `03_worker`, `worker` or `stages/03_worker` -> the stage 03_worker."""
    stages = stages_of(root)
    wanted = text.strip().strip("/").removeprefix("stages/").lower()
    for stage in stages:
        number, _, name = stage.name.partition("_")
        if wanted in (stage.name.lower(), name.lower()) or (wanted.isdigit() and int(wanted) == int(number)):
            return stage
    valid = ", ".join(stage.name for stage in stages)
    raise KataError(f"There is no stage {text!r}. The stages are: {valid} (you can also say 1, 01 or sync).")


def short_name(stage: Stage) -> str:
    """The shortest way to name the stage on the command line: its number."""
    return stage.name.split("_", 1)[0]


# A `raise NotImplementedError("Step 01_sync, task 1: ...")` is work left; a `TODO(...)` is a
# note about work; a `NEW(01_sync)` marks what the stage provides, and is not counted.
STEP_RAISE = re.compile(r"NotImplementedError\(\s*f?[\"']Step\s+\d+")
TODO_MARK = re.compile(r"TODO\s*\(")


@dataclass(frozen=True)
class TodoFile:
    path: str  # relative to the kata root
    steps: int  # `raise NotImplementedError("Step ...")` left
    notes: int  # `TODO(...)` comments

    def describe(self) -> str:
        parts = []
        if self.steps:
            parts.append(f"{self.steps} to write")
        if self.notes:
            parts.append(f"{self.notes} TODO note{'s' if self.notes != 1 else ''}")
        return ", ".join(parts)


def todo_files(root: Path, stage: Stage) -> list[TodoFile]:
    """Files of the learner's `workit` that still hold a step to write or a TODO note."""
    package = stage.code_dir("stages") / PACKAGE
    found = []
    for path in sorted(package.rglob("*.py")) if package.is_dir() else []:
        if "__pycache__" in path.parts:
            continue
        text = path.read_text(errors="replace")
        steps, notes = len(STEP_RAISE.findall(text)), len(TODO_MARK.findall(text))
        if steps or notes:
            found.append(TodoFile(path.relative_to(root).as_posix(), steps, notes))
    return sorted(found, key=lambda f: (-f.steps, f.path))
