"""The review's bridge to ruff: the general checks (a blind except, requests without a
timeout, logging with f-strings, pickle) come from ruff, worded for a learner."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from kata.review.comments import Comment
from kata.review.rules import Rule


def ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


def ruff_findings(
    package: Path, rules: list[Rule], stage_name: str, find_binary: Callable[[], str | None] = ruff_binary
) -> tuple[list[Comment], bool]:
    """Run ruff with only these rules' codes, on `package`; (comments, whether ruff failed to run).

    --isolated: the learner's (or the kata's) ruff settings change nothing here. `find_binary`
    says where ruff is (None: not installed)."""
    codes = {code: rule for rule in rules for code in rule.ruff}
    if not codes or not package.is_dir():
        return [], False
    binary = find_binary()
    if binary is None:
        return [], True
    try:
        done = subprocess.run(
            [binary, "check", "--isolated", "--no-cache", "--exit-zero", "--output-format", "json",
             "--target-version", "py310", "--select", ",".join(sorted(codes)), str(package)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return [], True
    try:
        found = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return [], True
    comments = []
    for item in found:
        rule = codes.get(item.get("code") or "")
        if rule is None:
            continue
        name = Path(item["filename"]).resolve().relative_to(package.resolve().parent).as_posix()
        comments.append(Comment(rule, stage_name, name, item["location"]["row"], {"ruff": item["code"]}))
    return comments, False
