"""How much of the learner's work the stage's own text gives away.

The learner's lines are the solution's lines that the skeleton does not have (solution minus
skeleton, file by file), leaving out comments, docstrings, imports and short lines (under
MIN_CHARS characters that are not spaces). A line is *given away* when a run of at least
RUN_SHARE of it, spaces ignored, stands in the skeleton's files or the stage README. The
self-check refuses more than STAGE_LIMIT given away in a stage, or TOTAL_LIMIT over all.

It is a guard, not the goal: prose that dictates the code is just as bad, and no counter
finds it. `python -m kata giveaway` prints the report with the offending lines.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from kata.layout import PACKAGE, Stage, all_stages

MIN_CHARS = 15
RUN_SHARE = 0.8
STAGE_LIMIT = 0.15
TOTAL_LIMIT = 0.10
CODE_SUFFIXES = {".py", ".html", ".txt", ".toml", ".cfg"}
SPACES = re.compile(r"\s+")


@dataclass
class GivenAway:
    path: str  # relative to the kata root
    line_no: int
    line: str


@dataclass
class StageGiveaway:
    stage: str
    learner_lines: int = 0
    given: list[GivenAway] = field(default_factory=list)

    @property
    def share(self) -> float:
        return len(self.given) / self.learner_lines if self.learner_lines else 0.0


def _files(package: Path) -> dict[str, Path]:
    if not package.is_dir():
        return {}
    return {
        p.relative_to(package).as_posix(): p
        for p in sorted(package.rglob("*"))
        if p.is_file() and p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts
    }


def _prose_lines(source: str) -> set[int]:
    """Line numbers of docstrings in Python source (they are prose, not the learner's code)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines |= set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def counts(line: str, python: bool) -> bool:
    """Whether a line of the solution is code the learner writes (not prose, not an import)."""
    stripped = line.strip()
    if python and (stripped.startswith("#") or re.match(r"(import|from)\s", stripped)):
        return False
    if not python and stripped.startswith(("{#", "<!--")):
        return False
    return len(SPACES.sub("", stripped)) >= MIN_CHARS


def learner_lines(skeleton: str, solution: str, python: bool) -> list[tuple[int, str]]:
    """(line number, line) of the solution lines that the skeleton does not have."""
    old, new = skeleton.splitlines(), solution.splitlines()
    prose = _prose_lines(solution) if python else set()
    matcher = difflib.SequenceMatcher(None, [line.strip() for line in old], [line.strip() for line in new], autojunk=False)
    found = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            for index in range(j1, j2):
                if index + 1 not in prose and counts(new[index], python):
                    found.append((index + 1, new[index]))
    return found


def stands_in(line: str, text: str) -> bool:
    """A run of at least RUN_SHARE of `line`, spaces ignored, is in `text` (spaces removed too)."""
    squeezed = SPACES.sub("", line)
    run = max(1, math.ceil(RUN_SHARE * len(squeezed)))
    return any(squeezed[start : start + run] in text for start in range(len(squeezed) - run + 1))


def stage_giveaway(stage: Stage) -> StageGiveaway:
    skeleton_dir, solution_dir = stage.code_dir("stages") / PACKAGE, stage.code_dir("solutions") / PACKAGE
    skeleton_files, solution_files = _files(skeleton_dir), _files(solution_dir)
    readme = stage.root / "stages" / stage.name / "README.md"
    given_text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in skeleton_files.values())
    given_text += readme.read_text(encoding="utf-8") if readme.is_file() else ""
    given_text = SPACES.sub("", given_text)
    report = StageGiveaway(stage.name)
    for name, path in solution_files.items():
        solution = path.read_text(encoding="utf-8", errors="replace")
        skeleton = skeleton_files[name].read_text(encoding="utf-8", errors="replace") if name in skeleton_files else ""
        for line_no, line in learner_lines(skeleton, solution, path.suffix == ".py"):
            report.learner_lines += 1
            if stands_in(line, given_text):
                where = path.relative_to(stage.root).as_posix()
                report.given.append(GivenAway(where, line_no, line.strip()))
    return report


def giveaway_reports(root: Path) -> list[StageGiveaway]:
    return [
        stage_giveaway(stage)
        for stage in all_stages(root)
        if (stage.code_dir("solutions") / PACKAGE).is_dir() and (stage.code_dir("stages") / PACKAGE).is_dir()
    ]


def total_share(reports: list[StageGiveaway]) -> float:
    lines = sum(report.learner_lines for report in reports)
    return sum(len(report.given) for report in reports) / lines if lines else 0.0


def giveaway_problems(reports: list[StageGiveaway]) -> list[str]:
    problems = [
        f"{report.stage}: {report.share:.0%} of the learner's {report.learner_lines} lines stand in its skeleton "
        f"or README (at most {STAGE_LIMIT:.0%}); `python -m kata giveaway {report.stage[:2]}` lists them"
        for report in reports
        if report.share > STAGE_LIMIT
    ]
    if total_share(reports) > TOTAL_LIMIT:
        problems.append(f"all stages: {total_share(reports):.0%} of the learner's lines given away (at most {TOTAL_LIMIT:.0%})")
    return problems


def format_report(reports: list[StageGiveaway], lines: bool = True) -> str:
    out = [f"  {'stage':<14}{'lines':>6}{'given':>7}{'share':>7}"]
    for report in reports:
        out.append(f"  {report.stage:<14}{report.learner_lines:>6}{len(report.given):>7}{report.share:>7.0%}")
    total_lines = sum(report.learner_lines for report in reports)
    total_given = sum(len(report.given) for report in reports)
    out.append(f"  {'all':<14}{total_lines:>6}{total_given:>7}{total_share(reports):>7.0%}")
    if lines:
        for report in reports:
            for given in report.given:
                out.append(f"  {given.path}:{given.line_no}: {given.line}")
    return "\n".join(out)
