"""pytest plugin for a student template (`kata export`): no solutions/, so say so clearly.

The exported conftest.py loads it before `kata.plugin`. Asking for the reference code
(`--solutions` or KATA_TARGET=solutions) in a copy that has none is a usage error with an
explanation, not a "No package 'workit'" from every test.
"""

from __future__ import annotations

import pytest

from kata.layout import TARGET_ENV, TargetError, target_from_env


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        wanted = "solutions" if config.getoption("solutions", default=False) else target_from_env()
    except TargetError:
        return  # kata.plugin explains a bad KATA_TARGET
    if wanted == "solutions" and not (config.rootpath / "solutions").is_dir():
        raise pytest.UsageError(
            "This copy of the kata is a student template: it has no solutions/, so --solutions "
            f"(or {TARGET_ENV}=solutions) has nothing to test. Run your own code: "
            "pytest stages/01_sync, or kata check."
        )
