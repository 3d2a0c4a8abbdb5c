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
import builtins
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


# --- library names handed over -------------------------------------------------------------
#
# The names a learner is to find in the docs (a method, a keyword argument, a decorator:
# `.brpop(`, `acks_late=`, `@shared_task`) should not be handed over before the API hint.
# The names are those in the learner's lines (as above, short lines included: a decorator's
# line is short) that no earlier stage's learner lines hold, less the kata's own (every name defined in the solution's workit: modules,
# functions, classes, constants; the tests import them) and Python's built-in types' methods
# (`.get(`, `.strip(`). One is *handed over* when it stands, as a word, in the README's code
# spans, the skeleton's text, the stage's first-level hints (nudge) or the string literals of
# its tests.

NAMES_STAGE_LIMIT = 0.40
NAMES_TOTAL_LIMIT = 0.25
# Enforced since 2026-12-08 (10% in all, no stage over 28%): the self-check refuses more. On
# 2026-12-07 the kata handed over 42% of its library names, six stages over 40%.
NAMES_ENFORCED = True
CODE_SPAN = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
BUILTIN_METHODS = {
    name for kind in (str, bytes, dict, list, set, tuple, int, float, object) for name in dir(kind) if not name.startswith("_")
}
BUILTIN_NAMES = set(dir(builtins))


@dataclass
class StageNames:
    stage: str
    names: dict[str, str] = field(default_factory=dict)  # name -> how it is shown: `.brpop(`, `acks_late=`, `@shared_task`
    handed: dict[str, list[str]] = field(default_factory=dict)  # name -> where it stands: README, skeleton, nudge, tests

    @property
    def share(self) -> float:
        return len(self.handed) / len(self.names) if self.names else 0.0


def _learner_line_numbers(skeleton: str, solution: str) -> set[int]:
    old, new = skeleton.splitlines(), solution.splitlines()
    prose = _prose_lines(solution)
    matcher = difflib.SequenceMatcher(None, [line.strip() for line in old], [line.strip() for line in new], autojunk=False)
    numbers = set()
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            for index in range(j1, j2):
                stripped = new[index].strip()
                if index + 1 not in prose and stripped and not stripped.startswith("#") and not re.match(r"(import|from)\s", stripped):
                    numbers.add(index + 1)
    return numbers


def _defined_names(package: Path) -> set[str]:
    """Every name the package defines: its modules, functions, classes, assigned names."""
    names = set()
    for path in package.rglob("*.py"):
        names.add(path.stem)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _imported_from_libraries(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith(PACKAGE) and node.level == 0:
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def library_names(source: str, lines: set[int], own: set[str]) -> dict[str, str]:
    """The library names used on `lines` of `source`: name -> how it is shown."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    imported = _imported_from_libraries(tree)
    found: dict[str, str] = {}

    def add(name: str, shown: str, line: int | None) -> None:
        if line in lines and name not in own and name not in found:
            found[name] = shown

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else None
                if name and name not in BUILTIN_NAMES and name not in BUILTIN_METHODS:
                    add(name, f"@{name}", decorator.lineno)
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr not in BUILTIN_METHODS:
            add(node.func.attr, f".{node.func.attr}(", node.func.end_lineno)
        elif isinstance(node.func, ast.Name) and node.func.id in imported:
            add(node.func.id, f"{node.func.id}(", node.func.lineno)
        for keyword in node.keywords:
            if keyword.arg is not None:
                add(keyword.arg, f"{keyword.arg}=", keyword.lineno)
    return found


def _test_strings(tests_dir: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted(tests_dir.rglob("*.py")) if tests_dir.is_dir() else []:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        texts += [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    return texts


def nudges(stage: Stage) -> dict[int, str]:
    """Each task's first-level hint, by task number."""
    from kata.hints import HintsError, load_hints

    try:
        return {hint.task: hint.text for hint in load_hints(stage) if hint.level == 1}
    except HintsError:
        return {}


def _word(name: str) -> str:
    return rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])"


def in_code(name: str, shown: str, text: str) -> bool:
    """`name` written as code in Python source: `.brpop`, `acks_late=`, `@...shared_task`, a
    function's name as a word (its import names it too)."""
    word = _word(name)
    if shown.startswith("."):
        pattern = rf"\.{word}"
    elif shown.endswith("="):
        pattern = rf"{word}\s*=(?!=)"
    elif shown.startswith("@"):
        pattern = rf"@[\w.]*?{word}|\.{word}|import[^\n]*{word}"
    else:
        pattern = word
    return re.search(pattern, text) is not None


def in_prose(name: str, text: str) -> bool:
    """`name` written as code in prose: in backticks, or as `.name`, `name(`, `name=`, `@name`."""
    word = _word(name)
    spans = "\n".join(CODE_SPAN.findall(text))
    return re.search(word, spans) is not None or re.search(rf"\.{word}|{word}\(|{word}\s*=(?!=)|@{word}", text) is not None


def stage_names(stage: Stage) -> StageNames:
    skeleton_dir, solution_dir = stage.code_dir("stages") / PACKAGE, stage.code_dir("solutions") / PACKAGE
    skeleton_files, solution_files = _files(skeleton_dir), _files(solution_dir)
    own = _defined_names(solution_dir) | _defined_names(skeleton_dir)
    report = StageNames(stage.name)
    for name, path in solution_files.items():
        if path.suffix != ".py":
            continue
        solution = path.read_text(encoding="utf-8", errors="replace")
        skeleton = skeleton_files[name].read_text(encoding="utf-8", errors="replace") if name in skeleton_files else ""
        for found, shown in library_names(solution, _learner_line_numbers(skeleton, solution), own).items():
            report.names.setdefault(found, shown)
    readme_path = stage.root / "stages" / stage.name / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    spans = "\n".join(CODE_SPAN.findall(readme))
    skeleton_text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in skeleton_files.values())
    nudge_text = "\n".join(nudges(stage).values())
    strings = _test_strings(stage.tests_dir)
    for name, shown in report.names.items():
        places = [
            place
            for place, stands in (
                ("README", re.search(_word(name), spans) is not None),
                ("skeleton", in_code(name, shown, skeleton_text)),
                ("nudge", in_prose(name, nudge_text)),
                ("tests", name in strings or any(in_prose(name, text) for text in strings)),
            )
            if stands
        ]
        if places:
            report.handed[name] = places
    return report


def names_reports(root: Path) -> list[StageNames]:
    """Each stage's names, in stage order. A name the learner wrote in an earlier stage's tasks
    is one they have found already: it is not counted again (07's `acks_late=` was found in 05)."""
    reports: list[StageNames] = []
    found_before: set[str] = set()
    for stage in all_stages(root):
        if not ((stage.code_dir("solutions") / PACKAGE).is_dir() and (stage.code_dir("stages") / PACKAGE).is_dir()):
            continue
        report = stage_names(stage)
        new = {name: shown for name, shown in report.names.items() if name not in found_before}
        found_before |= set(report.names)
        report.names = new
        report.handed = {name: places for name, places in report.handed.items() if name in new}
        reports.append(report)
    return reports


def names_total_share(reports: list[StageNames]) -> float:
    names = sum(len(report.names) for report in reports)
    return sum(len(report.handed) for report in reports) / names if names else 0.0


def names_problems(reports: list[StageNames]) -> list[str]:
    problems = [
        f"{report.stage}: {len(report.handed)} of the {len(report.names)} library names the learner writes "
        f"({report.share:.0%}) stand in its README's code, skeleton, nudges or tests' strings (at most "
        f"{NAMES_STAGE_LIMIT:.0%}); `python -m kata giveaway --names {report.stage[:2]}` lists them"
        for report in reports
        if report.share > NAMES_STAGE_LIMIT
    ]
    if names_total_share(reports) > NAMES_TOTAL_LIMIT:
        problems.append(f"all stages: {names_total_share(reports):.0%} of the library names handed over (at most {NAMES_TOTAL_LIMIT:.0%})")
    return problems


def nudge_names(stage: Stage, report: StageNames | None = None) -> list[str]:
    """Nudges (first-level hints, shown unasked by kata check) that name an API the learner is to find."""
    report = report or stage_names(stage)
    found = []
    for task, text in nudges(stage).items():
        named = [report.names[name] for name in report.names if in_prose(name, text)]
        if named:
            found.append(f"stages/{stage.name}/hints.toml: task {task}'s nudge names {', '.join(named)}")
    return found


def format_names_report(reports: list[StageNames], names: bool = True) -> str:
    out = [f"  {'stage':<14}{'names':>6}{'handed':>8}{'share':>7}   (at most {NAMES_STAGE_LIMIT:.0%} a stage, {NAMES_TOTAL_LIMIT:.0%} in all)"]
    for report in reports:
        out.append(f"  {report.stage:<14}{len(report.names):>6}{len(report.handed):>8}{report.share:>7.0%}")
    total_names = sum(len(report.names) for report in reports)
    total_handed = sum(len(report.handed) for report in reports)
    out.append(f"  {'all':<14}{total_names:>6}{total_handed:>8}{names_total_share(reports):>7.0%}")
    if names:
        for report in reports:
            out.append(f"\n  {report.stage}:")
            for name, shown in sorted(report.names.items()):
                places = report.handed.get(name)
                out.append(f"    {shown:<32}{'handed over: ' + ', '.join(places) if places else 'to find'}")
    return "\n".join(out)


def names_summary(root: Path, wanted: list[str], names: bool = True) -> tuple[list[str], bool]:
    """`kata giveaway --names`: the table (and each stage's names), what is over the limits,
    and the nudges that name an API; whether that fails (only once NAMES_ENFORCED)."""
    reports = names_reports(root)
    problems = names_problems(reports)
    shown = [report for report in reports if not wanted or report.stage in wanted]
    lines = format_names_report(shown, names).splitlines()
    if problems:
        lines.append("Over the limits" + ("" if NAMES_ENFORCED else " (reported, not enforced yet)") + ":")
        lines += [f"  - {problem}" for problem in problems]
    by_name = {report.stage: report for report in reports}
    named = [line for stage in all_stages(root) if stage.name in by_name and (not wanted or stage.name in wanted) for line in nudge_names(stage, by_name[stage.name])]
    if named:
        lines.append("Nudges that name an API (kata check shows the nudge unasked; reported, not enforced):")
        lines += [f"  - {line}" for line in named]
    return lines, bool(problems) and NAMES_ENFORCED
