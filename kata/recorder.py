"""pytest plugin for the self-check: one JSON line per test outcome, with why it failed.

Loaded with `-p kata.recorder`; writes to the file named by the KATA_RECORD variable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

from kata.layout import RECORD_ENV


def _write(entry: dict[str, Any]) -> None:
    path = os.environ.get(RECORD_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" or not report.passed:
        excinfo = call.excinfo
        error = excinfo.value if excinfo else None
        cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__) if error else None
        _write(
            {
                "nodeid": item.nodeid,
                "path": str(item.path),
                "when": report.when,
                "outcome": report.outcome,
                "given": item.get_closest_marker("given") is not None,
                "reference": item.get_closest_marker("reference") is not None,
                "exception": [c.__name__ for c in type(excinfo.value).__mro__] if excinfo else None,
                "message": str(excinfo.value)[:2000] if excinfo else "",
                "cause": [c.__name__ for c in type(cause).__mro__] if cause else None,
                "cause_message": str(cause)[:2000] if cause else "",
            }
        )
    return report


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write(
            {
                "nodeid": report.nodeid,
                "path": str(report.fspath),
                "when": "collect",
                "outcome": "failed",
                "given": False,
                "exception": None,
                "message": str(report.longrepr)[-2000:],
            }
        )
