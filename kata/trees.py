"""The self-check's tree checks: what the committed stages/ and solutions/ trees must hold.

- stages/NN_x/workit and solutions/NN_x/workit hold the same files (both directions), and
  every stage with tests has a solution (`mirror_problems`);
- stage N+1's skeleton is stage N's solution plus TODOs: every change sits next to a line
  naming the stage (`continuity_problems`).

`package_files` lists a `workit` package's files, for these checks and for `kata diff`.
"""

from __future__ import annotations

import ast
import difflib
import itertools
from pathlib import Path

from kata.layout import PACKAGE, all_stages

IGNORED_PARTS = {"__pycache__", ".pytest_cache"}


def package_files(package: Path) -> set[str]:
    """The files of a `workit` package, as POSIX paths relative to it: no caches, no bytecode."""
    if not package.is_dir():
        return set()
    return {
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and not IGNORED_PARTS & set(p.parts) and p.suffix != ".pyc"
    }


def mirror_problems(root: Path) -> list[str]:
    """stages/NN_x/workit and solutions/NN_x/workit must hold the same files, both ways."""
    problems = []
    stage_names = {d.name for d in (root / "stages").iterdir() if d.is_dir()}
    solution_names = {d.name for d in (root / "solutions").iterdir() if d.is_dir()}
    for name in sorted(solution_names - stage_names):
        problems.append(f"solutions/{name} has no stage stages/{name}")
    for name in sorted(stage_names & solution_names):
        skeleton = package_files(root / "stages" / name / PACKAGE)
        solution = package_files(root / "solutions" / name / PACKAGE)
        for path in sorted(skeleton - solution):
            problems.append(f"stages/{name}/{PACKAGE}/{path} has no counterpart in solutions/{name}")
        for path in sorted(solution - skeleton):
            problems.append(f"solutions/{name}/{PACKAGE}/{path} has no counterpart in stages/{name}")
    for stage in all_stages(root):
        if stage.tests_dir.is_dir() and stage.name not in solution_names:
            problems.append(f"stages/{stage.name} has tests but no solutions/{stage.name}")
    return problems


CONTEXT_LINES = 2


def _statement_spans(source: str) -> dict[int, tuple[int, int]]:
    """For each line of Python source, the lines of the innermost statement holding it."""
    spans: dict[int, tuple[int, int]] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return spans
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            for line in range(node.lineno, node.end_lineno + 1):
                known = spans.get(line)
                if known is None or known[1] - known[0] > node.end_lineno - node.lineno:
                    spans[line] = (node.lineno, node.end_lineno)
    return spans


def _unmarked_changes(previous: list[str], skeleton: list[str], stage: str, python: bool) -> list[tuple[int, int]]:
    """Skeleton line ranges (1-based) that differ from `previous` with no mark of `stage` near them.

    A mark is a line naming the stage (`TODO(03_worker)`, `NotImplementedError("Step 03_worker
    ...")`) within CONTEXT_LINES of the changed line, or of the Python statement holding it, so a
    TODO docstring or a multi-line raise covers itself, while one TODO cannot cover a whole
    rewritten function.
    """
    marked = [stage in line for line in skeleton]
    spans = _statement_spans("\n".join(skeleton)) if python else {}
    unmarked: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(a=previous, b=skeleton, autojunk=False)
    for tag, _, _, start, end in matcher.get_opcodes():
        if tag == "equal":
            continue
        for index in range(start, end):
            if not skeleton[index].strip():
                continue
            first, last = spans.get(index + 1, (index + 1, index + 1))
            window = range(max(0, first - 1 - CONTEXT_LINES), min(len(skeleton), last + CONTEXT_LINES))
            if any(marked[i] for i in window):
                continue
            if unmarked and unmarked[-1][1] == index:
                unmarked[-1] = (unmarked[-1][0], index + 1)
            else:
                unmarked.append((index + 1, index + 1))
    return unmarked


def continuity_problems(root: Path) -> list[str]:
    """stages/N+1/workit must be solutions/N/workit plus TODOs, nothing else."""
    problems = []
    names = [stage.name for stage in all_stages(root)]
    for before, after in itertools.pairwise(names):
        previous, skeleton = root / "solutions" / before, root / "stages" / after
        if not (previous / PACKAGE).is_dir() or not (skeleton / PACKAGE).is_dir():
            continue
        old_files, new_files = package_files(previous / PACKAGE), package_files(skeleton / PACKAGE)
        for rel in sorted(old_files - new_files):
            problems.append(f"stages/{after}/{PACKAGE}/{rel} is missing: solutions/{before} has it")
        for rel in sorted(new_files - old_files):
            text = (skeleton / PACKAGE / rel).read_text(errors="replace")
            if rel.endswith(".py") and after not in text:
                problems.append(f"stages/{after}/{PACKAGE}/{rel} is new in this stage but has no TODO({after})")
        for rel in sorted(old_files & new_files):
            old = (previous / PACKAGE / rel).read_text(errors="replace").splitlines()
            new = (skeleton / PACKAGE / rel).read_text(errors="replace").splitlines()
            for first, last in _unmarked_changes(old, new, after, rel.endswith(".py")):
                lines = f"{first}" if first == last else f"{first}-{last}"
                problems.append(
                    f"stages/{after}/{PACKAGE}/{rel}:{lines} differs from solutions/{before} with no "
                    f"TODO({after}) nearby: a skeleton changes the previous solution only where the "
                    "learner has work to do"
                )
    return problems
