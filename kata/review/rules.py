"""The review's rules: what each says (messages.toml) and what finds it (checks.py, or ruff).

Every rule is tied to the first stage it applies to (and every later one). The words are data,
as a stage's hints are: messages.toml, in the order the stages meet them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kata.review import checks
from kata.review.sources import Finding, Package

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TYPES = ("essential", "actionable", "informative", "celebratory")
MESSAGES = Path(__file__).with_name("messages.toml")


@dataclass(frozen=True)
class Rule:
    """One thing a mentor would point out. `title`, `why` and `read` are what the learner
    reads; `title` may use the finding's params ({task}, {call}...)."""

    id: str
    type: str
    since: int  # the first stage (by number) it applies to, and every later one (unless `until`)
    title: str
    why: str
    read: str
    check: Callable[[Package], Iterator[Finding]] | None = None  # our own ast pass...
    ruff: tuple[str, ...] = ()  # ...or the ruff rules that find it
    replaces: tuple[str, ...] = ()  # rules it says better, on the same line: theirs is dropped
    until: int | None = None  # the last stage it applies to: praise only where the learner wrote it

    def applies_to(self, stage_name: str) -> bool:
        number = stage_number(stage_name)
        return number >= self.since and (self.until is None or number <= self.until)


def stage_number(stage_name: str) -> int:
    return int(stage_name.split("_", 1)[0])


def _rule(entry: dict[str, Any]) -> Rule:
    """A rule from its table in messages.toml, with the check of its name unless ruff finds it."""
    ruff = tuple(entry.get("ruff", ()))
    check = None if ruff or entry["id"] == "unreadable" else getattr(checks, entry["id"])
    return Rule(
        entry["id"], entry["type"], entry["since"], entry["title"], entry["why"], entry["read"],
        check=check, ruff=ruff, replaces=tuple(entry.get("replaces", ())), until=entry.get("until"),
    )  # fmt: skip


_MESSAGES = tomllib.loads(MESSAGES.read_text(encoding="utf-8"))
RULES: tuple[Rule, ...] = tuple(_rule(entry) for entry in _MESSAGES["rule"])
# A file Python cannot read: not a rule to apply, but said the same way.
UNREADABLE = _rule(_MESSAGES["unreadable"])


def rules_for(stage_name: str) -> list[Rule]:
    return [rule for rule in RULES if rule.applies_to(stage_name)]
