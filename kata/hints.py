"""Progressive hints, per task: `stages/NN_x/hints.toml` is the one place for a stage's hints.

    [[task]]
    task = 3                                  # the README's "### Task 3: ..."
    title = "Take the oldest job"
    tests = ["tests/test_jobs.py::test_next_job_*"]   # the tests this task makes pass
    nudge = '''A question, the concept to think about.'''
    api = '''The API to use, with a link to its docs.'''
    sketch = '''The shape of the answer, with blanks.'''
    code = '''(optional) The code itself: shown last.'''

Each task's levels come one at a time, in that order (nudge, api, sketch, then code).
Internally they are numbered hints in file order, so `kata hint` walks a task level by
level. `tests` holds patterns matched against a test's id inside its stage
(`tests/test_giphy.py::test_a_failed_search[429]`): a file matches every test in it, and
`*` matches any run of characters (brackets mean themselves, so parametrised ids can be
named). When tests fail, the next hint is the first unseen one that matches a failing
test, so the task of the first failing test; otherwise the first unseen one.

Which hints a learner has seen is UI state, kept in `.kata/hints-seen.json` (untracked):
it never decides whether a test passes.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kata.layout import Stage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HINTS_FILE = "hints.toml"
SEEN_FILE = Path(".kata") / "hints-seen.json"


class HintsError(ValueError):
    """A hints.toml that cannot be used."""


LEVELS = ("nudge", "api", "sketch", "code")
REQUIRED_LEVELS = LEVELS[:3]
LEVEL_NAMES = {"nudge": "a nudge", "api": "the API", "sketch": "a sketch", "code": "the code"}
README_TASK = re.compile(r"^###\s+Task\s+(\d+)\b", re.MULTILINE)


@dataclass(frozen=True)
class Hint:
    number: int  # 1-based, in file order, over every task's levels
    text: str
    tests: tuple[str, ...]
    task: int = 0  # the README's task number
    level: int = 1  # 1 = the nudge, 2 = the API, 3 = the sketch, 4 = the code
    levels: int = 1  # how many levels the task has
    title: str = ""

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[LEVELS[self.level - 1]] if 0 < self.level <= len(LEVELS) else f"level {self.level}"

    @property
    def label(self) -> str:
        """`Task 3, hint 2 of 4 (the API)`."""
        if not self.task:
            return f"Hint {self.number}"
        return f"Task {self.task}, hint {self.level} of {self.levels} ({self.level_name})"

    def matches(self, test_name: str) -> bool:
        return any(pattern_matches(pattern, test_name) for pattern in self.tests)


def pattern_matches(pattern: str, test_name: str) -> bool:
    """`tests/test_a.py` matches every test in that file; `*` is a wildcard, nothing else is."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    if "::" not in pattern:
        regex += r"(::.*)?"
    return re.fullmatch(regex, test_name) is not None


def hints_path(stage: Stage) -> Path:
    return stage.root / "stages" / stage.name / HINTS_FILE


def _read(stage: Stage) -> dict:
    path = hints_path(stage)
    if not path.is_file():
        raise HintsError(f"stages/{stage.name}/{HINTS_FILE} is missing: every stage needs hints")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise HintsError(f"stages/{stage.name}/{HINTS_FILE} is not valid TOML: {error}") from None


def _tasks(stage: Stage) -> list[dict]:
    data = _read(stage)
    where = f"stages/{stage.name}/{HINTS_FILE}"
    if "hint" in data:
        raise HintsError(f"{where} uses [[hint]] tables: write one [[task]] table per task, with nudge, api and sketch")
    raw = data.get("task")
    if not isinstance(raw, list) or not raw or not all(isinstance(entry, dict) for entry in raw):
        raise HintsError(f"{where} has no [[task]] tables: every stage needs hints")
    return raw


def load_hints(stage: Stage) -> list[Hint]:
    """The stage's hints, task by task and level by level; HintsError when the file is
    missing or malformed."""
    hints: list[Hint] = []
    for position, entry in enumerate(_tasks(stage), start=1):
        task = entry.get("task") if isinstance(entry.get("task"), int) else position
        tests = entry.get("tests")
        patterns = tuple(t for t in tests if isinstance(t, str)) if isinstance(tests, list) else ()
        texts = [entry.get(level) for level in LEVELS]
        present = [text.strip() if isinstance(text, str) else "" for text in texts]
        while len(present) > len(REQUIRED_LEVELS) and not present[-1]:
            present.pop()
        title = entry.get("title") if isinstance(entry.get("title"), str) else ""
        for level, text in enumerate(present, start=1):
            hints.append(Hint(len(hints) + 1, text, patterns, task, level, len(present), title))
    return hints


def readme_tasks(stage: Stage) -> list[int]:
    """The task numbers of the stage README's `### Task N: ...` headings, in order."""
    readme = stage.root / "stages" / stage.name / "README.md"
    return [int(n) for n in README_TASK.findall(readme.read_text(encoding="utf-8"))] if readme.is_file() else []


def _test_functions(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names |= {
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test")
            }
    return names


def _pattern_problem(stage: Stage, pattern: str) -> str | None:
    """Why a `tests` pattern can match no test of the stage, read from the test files."""
    stage_dir = stage.root / "stages" / stage.name
    file_part, _, test_part = pattern.partition("::")
    files = [p for p in stage_dir.glob(file_part) if p.is_file()] if file_part else []
    if not files:
        return f"names {file_part!r}, which is no test file of the stage"
    if not test_part:
        return None
    function_part = test_part.split("[", 1)[0]
    for path in files:
        if any(pattern_matches(function_part, name) for name in _test_functions(path)):
            return None
    return f"matches no test function in {file_part} ({test_part!r})"


def hint_problems(stage: Stage) -> list[str]:
    """What the self-check refuses: no hints, a task without its three levels, a task tied
    to no test, tasks that are not the README's."""
    try:
        tasks = _tasks(stage)
    except HintsError as error:
        return [str(error)]
    problems = []
    where = f"stages/{stage.name}/{HINTS_FILE}"
    numbers = []
    for position, entry in enumerate(tasks, start=1):
        number = entry.get("task")
        if not isinstance(number, int):
            problems.append(f"{where}: [[task]] number {position} has no `task = N` (the README's task number)")
            number = position
        numbers.append(number)
        name = f"task {number}"
        for level in REQUIRED_LEVELS:
            text = entry.get(level)
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where}: {name} has no {level} level (every task needs {', '.join(REQUIRED_LEVELS)})")
        unknown = set(entry) - {"task", "title", "tests", *LEVELS}
        if unknown:
            problems.append(f"{where}: {name} has unknown keys {sorted(unknown)} (levels are {', '.join(LEVELS)})")
        if isinstance(entry.get("nudge"), str) and "```" in entry["nudge"]:
            problems.append(f"{where}: {name}'s nudge holds a code block: a nudge asks a question, code comes last")
        tests = entry.get("tests")
        patterns = [t for t in tests if isinstance(t, str)] if isinstance(tests, list) else []
        if not patterns:
            problems.append(f"{where}: {name} names no tests (tests = [...], the tests it helps with)")
        for pattern in patterns:
            problem = _pattern_problem(stage, pattern)
            if problem is not None:
                problems.append(f"{where}: {name}'s test pattern {pattern!r} {problem}")
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"{where}: the tasks are numbered {numbers}, not 1 to {len(numbers)} in order")
    in_readme = readme_tasks(stage)
    if in_readme != numbers:
        problems.append(
            f"{where}: tasks {numbers}, but stages/{stage.name}/README.md has `### Task N` headings for {in_readme}: "
            "one hints task per README task"
        )
    return problems


def first_matching(hints: Iterable[Hint], test_name: str) -> Hint | None:
    return next((hint for hint in hints if hint.matches(test_name)), None)


def order_key(hints: list[Hint], test_name: str) -> int:
    """Sort failures in the order the hints walk through them (unmatched tests last)."""
    hint = first_matching(hints, test_name)
    return hint.number if hint else len(hints) + 1


def next_hint(hints: list[Hint], seen: Iterable[int], failing: Iterable[str]) -> Hint | None:
    """The first unseen hint for a failing test, else the first unseen hint, else None."""
    unseen = [hint for hint in hints if hint.number not in set(seen)]
    failing = list(failing)
    for hint in unseen:
        if any(hint.matches(name) for name in failing):
            return hint
    return unseen[0] if unseen else None


def hint_for_failure(hints: list[Hint], seen: Iterable[int], test_name: str) -> Hint | None:
    """The hint to show beside a failing test: the furthest one seen that helps with it,
    else the first that does. Showing it again and again never uses up the next one:
    `kata hint` moves on."""
    matching = [hint for hint in hints if hint.matches(test_name)]
    seen = set(seen)
    already = [hint for hint in matching if hint.number in seen]
    return already[-1] if already else (matching[0] if matching else None)


class SeenHints:
    """`.kata/hints-seen.json`: which hints of which stage the learner has been shown."""

    def __init__(self, root: Path) -> None:
        self.path = root / SEEN_FILE

    def _load(self) -> dict[str, list[int]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: [n for n in v if isinstance(n, int)] for k, v in data.items() if isinstance(v, list)} if isinstance(data, dict) else {}

    def seen(self, stage: str) -> list[int]:
        return self._load().get(stage, [])

    def mark(self, stage: str, number: int) -> None:
        data = self._load()
        numbers = data.setdefault(stage, [])
        if number not in numbers:
            numbers.append(number)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            pass  # a read-only checkout still gets its hints, just not the memory of them

    def forget(self, stage: str) -> None:
        data = self._load()
        if data.pop(stage, None) is not None:
            self.path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
