"""`kata reset`'s git work: what putting a stage's skeleton back would change, and doing it.

Every git command runs in the kata's root; a problem the learner can fix (no git, not a
checkout, no such commit) raises KataError, said in a sentence or two.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kata.layout import PACKAGE, Stage
from kata.project import KataError


def git(root: Path, *args: str, check: bool = True) -> str:
    """git's output; with `check`, a KataError when it fails."""
    done = subprocess.run(["git", *args], check=False, cwd=root, capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise KataError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Reset:
    """What `kata reset` would do: put `path` back as it is in `ref`."""

    path: str  # stages/NN_x/workit
    ref: str
    changed: list[str]  # files that differ from ref (relative to the root)
    extra: list[str]  # files git does not know, left alone


def plan_reset(root: Path, stage: Stage, ref: str = "HEAD", first: bool = False) -> Reset:
    """The reset of a stage's skeleton to `ref` (the repository's first commit with `first`)."""
    path = f"stages/{stage.name}/{PACKAGE}"
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], check=False, cwd=root, capture_output=True, text=True, timeout=60)
    except OSError:
        raise KataError("kata reset needs git, and git is not installed.") from None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise KataError(
            f"{root} is not a git checkout, so kata reset cannot know what the skeleton was. "
            "Clone the kata with git (or copy stages/ from a fresh download) to get it back."
        )
    if first and (root / "solutions").is_dir():
        raise KataError(
            "--first is for a student template, whose first commit is the untouched skeleton. "
            "This is the kata's own repository (it has solutions/), where the first commit is "
            "an early draft: use --ref COMMIT, or plain `kata reset` for HEAD."
        )
    if first:
        roots = git(root, "rev-list", "--max-parents=0", "HEAD").split()
        if not roots:
            raise KataError("This repository has no commits yet.")
        ref = git(root, "rev-parse", "--short", roots[-1]).strip()
    if git(root, "cat-file", "-t", f"{ref}:{path}", check=False).strip() != "tree":
        raise KataError(f"{ref} has no {path}: pick a commit that has this stage (--ref COMMIT).")
    changed = [line for line in git(root, "diff", "--name-only", ref, "--", path).splitlines() if line]
    extra = [line for line in git(root, "ls-files", "--others", "--exclude-standard", "--", path).splitlines() if line]
    return Reset(path, ref, changed, extra)


def apply_reset(root: Path, stage: Stage, reset: Reset) -> Path:
    """Copy the changed files to .kata/backup/, then check the skeleton out; the backup's directory."""
    backup = root / ".kata" / "backup" / f"{stage.name}-{datetime.now():%Y%m%d-%H%M%S}"
    for name in reset.changed:
        source = root / name
        if source.is_file():
            (backup / name).parent.mkdir(parents=True, exist_ok=True)
            (backup / name).write_bytes(source.read_bytes())
    git(root, "checkout", reset.ref, "--", reset.path)
    return backup
