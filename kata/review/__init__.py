"""`kata review`: what a mentor would say about the approach, beyond pass or fail.

Some of the commonest Flask and Celery mistakes pass every test, because they behave the same
on the tests' inputs. The review reads a stage's `workit` package, never runs or changes it,
and comments on what it finds, as exercism's analyzers do: each comment is typed essential,
actionable, informative or celebratory, and `kata review --json` writes exercism's
analysis.json (`{"summary", "comments": [{"comment", "params", "type"}]}`).

Every rule is in RULES (rules.py; its words in messages.toml), tied to the first stage it
applies to (and every later one). What ruff already checks (a blind except, requests without a timeout, logging with f-strings,
pickle) comes from ruff, worded for a learner; the Celery- and Flask-specific rules are one
small `ast` pass each.

The package: sources.py (what the checks look at), checks.py (our own checks), rules.py and
messages.toml (the rules and their words), ruff_bridge.py (ruff's), comments.py (what a review
holds) and output.py (what the learner reads). This module runs a review, and re-exports what
callers use.
"""

from __future__ import annotations

import json
from pathlib import Path

from kata.layout import PACKAGE, Stage
from kata.review.comments import Comment, Review, count
from kata.review.output import note_lines, review_lines
from kata.review.ruff_bridge import ruff_binary, ruff_findings
from kata.review.rules import RULES, TYPES, UNREADABLE, Rule, rules_for, stage_number
from kata.review.sources import Package, Source

__all__ = [
    "RULES",
    "TYPES",
    "UNREADABLE",
    "Comment",
    "Review",
    "Rule",
    "count",
    "note_lines",
    "review_lines",
    "review_package",
    "review_stage",
    "ruff_binary",
    "ruff_findings",
    "rules_for",
    "stage_number",
    "write_json",
]


def review_stage(stage: Stage, target: str = "stages") -> Review:
    return review_package(stage.code_dir(target) / PACKAGE, stage.name)


def review_package(package: Path, stage_name: str) -> Review:
    """Apply the stage's rules to the package at `package` (a `workit` directory)."""
    rules = rules_for(stage_name)
    sources, comments = [], []
    files = sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts) if package.is_dir() else []
    for path in files:
        name = path.relative_to(package.parent).as_posix()
        try:
            sources.append(Source.parse(name, path.read_text(encoding="utf-8", errors="replace")))
        except SyntaxError as error:
            comments.append(Comment(UNREADABLE, stage_name, name, error.lineno or 1, {"error": f"{error.msg}, line {error.lineno}"}))
    parsed = Package(sources)
    for rule in rules:
        if rule.check is not None:
            for source, line, params in rule.check(parsed):
                comments.append(Comment(rule, stage_name, source.name, line, params))
    unreadable = {comment.file for comment in comments if comment.rule is UNREADABLE}
    ruff_comments, missing = ruff_findings(package, [rule for rule in rules if rule.ruff], stage_name, ruff_binary)
    comments += [comment for comment in ruff_comments if comment.file not in unreadable]
    replaced = {(comment.where, replaced) for comment in comments for replaced in comment.rule.replaces}
    comments = [comment for comment in comments if (comment.where, comment.rule.id) not in replaced]
    order = {kind: index for index, kind in enumerate(TYPES)}
    comments.sort(key=lambda c: (order[c.type], c.file, c.line, c.rule.id))
    return Review(stage_name, package, comments, missing)


def write_json(review: Review, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(review.as_json(), indent=2) + "\n", encoding="utf-8")
