"""Progressive hints: `stages/NN_x/hints.toml` is the one place for a stage's hints.

    [[hint]]
    tests = ["tests/test_giphy.py"]          # the tests this hint helps with
    text = '''
    Start with `fetch_gif_url` ...
    '''

Hints come in the order a learner should read them. `tests` holds patterns matched against
a test's id inside its stage (`tests/test_giphy.py::test_a_failed_search[429]`): a file
matches every test in it, and `*` matches any run of characters (brackets mean
themselves, so parametrised ids can be named). When tests fail, the next hint is the first
unseen one that matches a failing test; otherwise the first unseen one.

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


@dataclass(frozen=True)
class Hint:
    number: int  # 1-based, in file order
    text: str
    tests: tuple[str, ...]

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


def load_hints(stage: Stage) -> list[Hint]:
    """The stage's hints, in order; HintsError when the file is missing or malformed."""
    path = hints_path(stage)
    if not path.is_file():
        raise HintsError(f"stages/{stage.name}/{HINTS_FILE} is missing: every stage needs hints")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise HintsError(f"stages/{stage.name}/{HINTS_FILE} is not valid TOML: {error}") from None
    raw = data.get("hint")
    if not isinstance(raw, list) or not raw:
        raise HintsError(f"stages/{stage.name}/{HINTS_FILE} has no [[hint]] tables: every stage needs hints")
    hints = []
    for number, entry in enumerate(raw, start=1):
        text = entry.get("text") if isinstance(entry, dict) else None
        tests = entry.get("tests") if isinstance(entry, dict) else None
        hints.append(
            Hint(
                number,
                text.strip() if isinstance(text, str) else "",
                tuple(t for t in tests if isinstance(t, str)) if isinstance(tests, list) else (),
            )
        )
    return hints


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
    """What the self-check refuses: no hints, an empty hint, a hint tied to no test."""
    try:
        hints = load_hints(stage)
    except HintsError as error:
        return [str(error)]
    problems = []
    where = f"stages/{stage.name}/{HINTS_FILE}"
    for hint in hints:
        if not hint.text:
            problems.append(f"{where}: hint {hint.number} is empty")
        if not hint.tests:
            problems.append(f"{where}: hint {hint.number} names no tests (tests = [...], the tests it helps with)")
        for pattern in hint.tests:
            problem = _pattern_problem(stage, pattern)
            if problem is not None:
                problems.append(f"{where}: hint {hint.number}'s test pattern {pattern!r} {problem}")
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
