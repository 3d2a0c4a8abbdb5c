"""What the review says about one package: its comments, each a rule at a place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kata.review.rules import Rule


@dataclass(frozen=True)
class Comment:
    rule: Rule
    stage: str
    file: str  # `workit/views.py`
    line: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.stage}.{self.rule.id}"

    @property
    def type(self) -> str:
        return self.rule.type

    @property
    def title(self) -> str:
        return self.rule.title.format(**self.params)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def as_json(self) -> dict[str, Any]:
        return {"comment": self.id, "params": {"file": self.file, "line": self.line, **self.params}, "type": self.type}


@dataclass
class Review:
    stage: str
    directory: Path  # the package reviewed
    comments: list[Comment]
    ruff_missing: bool = False  # ruff is not installed, or did not run

    def of_type(self, *types: str) -> list[Comment]:
        return [comment for comment in self.comments if comment.type in types]

    @property
    def notes(self) -> list[Comment]:
        """What the learner may want to change: all but the celebratory comments."""
        return self.of_type("essential", "actionable", "informative")

    @property
    def summary(self) -> str:
        essential, actionable = len(self.of_type("essential")), len(self.of_type("actionable"))
        informative, celebratory = len(self.of_type("informative")), len(self.of_type("celebratory"))
        sturdier = f"{count(actionable, 'change').capitalize()} would make it sturdier."
        if essential:
            first = f"{count(essential, 'thing').capitalize()} here would hurt in production: fix {'it' if essential == 1 else 'them'} first."
            return f"{first} {sturdier.replace('change', 'more change', 1)}" if actionable else first
        if actionable:
            return sturdier
        if informative:
            return f"Nothing to fix; {count(informative, 'note')} worth knowing."
        if celebratory:
            return "Nothing to fix, and some things done especially well."
        return "Nothing to point out."

    def as_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "comments": [comment.as_json() for comment in self.comments]}


NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count(n: int, noun: str) -> str:
    return f"{NUMBERS[n] if n < len(NUMBERS) else n} {noun}{'' if n == 1 else 's'}"
