"""`kata export DIR --without-solutions`: a student template of the kata.

The template is the repository's tracked files (every file, when the kata is not a git
checkout), minus what only maintainers need and what needs solutions/:

- solutions/ and source/ (which makes both trees), the machinery's own tests (kata/tests), the self-check's CI (.ci,
  .github/workflows/ci.yml, tox.ini), the finished app's launchers (Procfile, stack.env)
  and bench/;
- the Makefile and the README are rewritten for learners: `make test` shows `kata status`,
  and the README keeps its introduction and its "For learners" section, without the parts
  marked `<!-- solutions -->` ... `<!-- /solutions -->`;
- in the stage READMEs, command lines that run the tests against solutions/ are dropped;
- conftest.py also loads `kata.student`, which turns `pytest --solutions` into a clear
  error instead of a crash.

The Classroom workflow (.github/workflows/classroom.yml) stays: in a template it grades.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from pathlib import Path

SOLUTION_DEPENDENT = [
    "solutions/*",
    "source/*",
    "kata/tests/*",
    ".ci/*",
    ".github/workflows/ci.yml",
    "tox.ini",
    "Procfile",
    "stack.env",
    "bench/*",
]
NEVER_COPIED = {".git", ".venv", ".tox", ".kata", "__pycache__", ".pytest_cache", "build", "dist"}
MARKED_BLOCK = re.compile(r"<!-- solutions -->.*?<!-- /solutions -->\n?", re.DOTALL)
SOLUTIONS_COMMAND = re.compile(r"--solutions|KATA_TARGET=solutions|kata diff")

STUDENT_CONFTEST = '''"""The kata's pytest wiring lives in the `kata` package; this file only loads it."""

pytest_plugins = ["kata.student", "kata.plugin"]
'''

STUDENT_MAKEFILE = """PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.kata-installed

.PHONY: test status venv clean

## make test: set up .venv on first use, then show where you are (kata status)
test: status

status: $(INSTALLED)
\t@$(BIN)/python -m kata status || echo "(Stages left to do: that is where you start, not a failed set-up. kata status exits 1 until every stage passes.)"

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
\t@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Work-It Kata needs Python 3.10 or newer; try: make PYTHON=python3.12")'
\ttest -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
\tPIP_CONSTRAINT=constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[stack]'
\ttouch $@

clean:
\trm -rf $(VENV) .pytest_cache *.egg-info
"""

STUDENT_SETUP = """## Set up

You need Python 3.10 or newer and `make`:

```
make test      # creates .venv with the pinned packages, then shows where you are (kata status)
. .venv/bin/activate
```
"""


class ExportError(Exception):
    pass


def tracked_files(root: Path, untracked: bool = False) -> list[str] | None:
    """The files git tracks under `root` (relative paths), or None outside a git checkout.
    With `untracked`: the new files git does not track yet (and does not ignore) instead."""
    which = ["--others", "--exclude-standard"] if untracked else ["--cached"]
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", *which], cwd=root, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [name for name in listed.decode().split("\0") if name]


def left_out(root: Path, without_solutions: bool = True) -> list[str]:
    """New files git does not track: an export leaves them out (commit them to include them)."""
    return [name for name in tracked_files(root, untracked=True) or [] if not excluded(name, without_solutions)]


def all_files(root: Path) -> list[str]:
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        top = relative.parts[0]
        in_build_output = top.endswith(".egg-info") or top.startswith(".venv-")
        if path.is_file() and not NEVER_COPIED & set(relative.parts) and not in_build_output and path.suffix != ".pyc":
            files.append(relative.as_posix())
    return sorted(files)


def excluded(name: str, without_solutions: bool) -> bool:
    if NEVER_COPIED & set(name.split("/")):
        return True
    return without_solutions and any(fnmatch.fnmatch(name, pattern) for pattern in SOLUTION_DEPENDENT)


def student_readme(text: str) -> str:
    """The README's introduction, a learner's set-up, and its "For learners" section."""
    intro, _, rest = text.partition("\n## ")
    sections = ["## " + part for part in ("\n" + rest).split("\n## ") if part.strip()] if rest else []
    learners = [section for section in sections if section.startswith("## For learners")]
    parts = [intro.rstrip() + "\n", STUDENT_SETUP] + [section.rstrip() + "\n" for section in learners]
    return student_stage_readme("\n".join(parts))


def student_stage_readme(text: str) -> str:
    """Drop the command lines (in code blocks) that test solutions/, which a template lacks."""
    kept, in_code = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code and SOLUTIONS_COMMAND.search(line):
            continue
        kept.append(line)
    return MARKED_BLOCK.sub("", "".join(kept))


def export(root: Path, destination: Path, without_solutions: bool = True, git: bool = False) -> list[str]:
    """Write the template to `destination` (new or empty); returns the files written."""
    destination = destination.resolve()
    if destination.exists() and any(destination.iterdir()):
        raise ExportError(f"{destination} is not empty: export into a new or empty directory")
    inside = destination.relative_to(root.resolve()).parts if destination.is_relative_to(root.resolve()) else None
    if inside is not None and (not inside or inside[0] in ("stages", "solutions", "kata")):
        raise ExportError(f"{destination} is the kata itself or inside its stages/, solutions/ or kata/: choose another place")
    names = tracked_files(root)
    if names is None:
        names = all_files(root)
    written = []
    for name in names:
        source = root / name
        if not source.is_file() or excluded(name, without_solutions):
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if without_solutions and name == "README.md":
            target.write_text(student_readme(source.read_text(encoding="utf-8")), encoding="utf-8")
        elif without_solutions and re.fullmatch(r"stages/[^/]+/README\.md", name):
            target.write_text(student_stage_readme(source.read_text(encoding="utf-8")), encoding="utf-8")
        elif without_solutions and name == "Makefile":
            target.write_text(STUDENT_MAKEFILE, encoding="utf-8")
        elif without_solutions and name == "conftest.py":
            target.write_text(STUDENT_CONFTEST, encoding="utf-8")
        else:
            shutil.copy2(source, target)
        written.append(name)
    if git:
        _commit(destination)
    return written


def _commit(destination: Path) -> None:
    """`git init` and one commit: the commit `kata reset --first` restores the skeleton from."""

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", *args], cwd=destination, check=True, capture_output=True, timeout=120)

    try:
        git("init", "-q")
        has_identity = subprocess.run(["git", "config", "user.email"], check=False, cwd=destination, capture_output=True).returncode == 0
        identity = [] if has_identity else ["-c", "user.name=Work-It Kata", "-c", "user.email=kata@example.invalid"]
        git("add", "--all", ".")
        git(*identity, "commit", "-q", "-m", "Work-It Kata: student template")
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise ExportError(f"git could not commit the template in {destination}: {detail.decode(errors='replace').strip() or error}") from None
