"""pytest plugin: say why tests were deselected, and when --integration adds nothing.

pytest's summary says "34 deselected" and no more. The kata deselects for two reasons of its
own: tests marked `integration` run only with `--integration` (kata.stack_fixtures), tests
marked `reference` only against solutions/ (kata.plugin) or with --reference. This plugin watches the collection
hooks from outside, so it counts whatever deselected them, and writes one line naming each
marker and the option that brings them back.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

_counts_key = pytest.StashKey[dict[str, int]]()
_nothing_added_key = pytest.StashKey[bool]()

WHY = {
    "integration": "marked integration, which run only with --integration (real redis-server, celery worker, maildump)",
    "reference": "marked reference: the finished app's hardening beyond the steps, not asked of your code",
    "other": "left out by -k or -m",
}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Generator[None, object, object]:
    before = list(items)
    result = yield
    kept = {id(item) for item in items}
    counts: dict[str, int] = {}
    for item in before:
        if id(item) in kept:
            continue
        reason = next((marker for marker in ("integration", "reference") if item.get_closest_marker(marker)), "other")
        counts[reason] = counts.get(reason, 0) + 1
    config.stash[_counts_key] = counts
    from kata.stack_fixtures import integration_enabled

    config.stash[_nothing_added_key] = bool(
        integration_enabled(config) and items and not any(item.get_closest_marker("integration") for item in items)
    )
    return result


def deselection_lines(counts: dict[str, int], nothing_added: bool) -> list[str]:
    lines = [f"{count} deselected: {WHY[reason]}" for reason, count in counts.items() if count]
    if nothing_added:
        lines.append("--integration adds nothing here: none of these tests is marked integration (this stage has no integration tier)")
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = deselection_lines(config.stash.get(_counts_key, {}), config.stash.get(_nothing_added_key, False))
    if lines:
        terminalreporter.write_sep("-", "kata")
        for line in lines:
            terminalreporter.write_line(line)
