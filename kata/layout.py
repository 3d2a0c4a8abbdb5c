"""Where stages, solutions and their `workit` packages live on disk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "workit"
TARGETS = ("stages", "solutions")
TARGET_ENV = "KATA_TARGET"
# Where kata.recorder writes the record of a run (here, so the CLI reads it without importing pytest)
RECORD_ENV = "KATA_RECORD"


class TargetError(ValueError):
    """A target name that is neither `stages` nor `solutions`."""


def target_from_env(environ: os._Environ[str] | dict[str, str] = os.environ) -> str:
    value = environ.get(TARGET_ENV, "").strip() or "stages"
    if value not in TARGETS:
        raise TargetError(
            f"{TARGET_ENV}={value!r} is not a target: use {TARGET_ENV}=stages (your code, "
            f"the default) or {TARGET_ENV}=solutions (the reference code)."
        )
    return value


@dataclass(frozen=True)
class Stage:
    """One step of the kata, such as `01_sync`."""

    root: Path
    name: str

    @property
    def tests_dir(self) -> Path:
        return self.root / "stages" / self.name / "tests"

    def code_dir(self, target: str) -> Path:
        """The directory whose `workit` package the stage's tests import."""
        return self.root / target / self.name


def stage_of(path: Path, root: Path) -> Stage | None:
    """The stage a test file belongs to: `<root>/stages/<name>/...`, else None."""
    try:
        parts = path.resolve().relative_to(root.resolve()).parts
    except ValueError:
        return None
    if len(parts) >= 3 and parts[0] == "stages":
        return Stage(root, parts[1])
    return None


def all_stages(root: Path) -> list[Stage]:
    return sorted(
        (Stage(root, d.name) for d in (root / "stages").iterdir() if d.is_dir() and d.name[:2].isdigit()),
        key=lambda stage: stage.name,
    )
