"""pytest plugin: the target switch (`--solutions`, KATA_TARGET) and the shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

from kata.isolation import WorkitSwitch
from kata.layout import TARGET_ENV, TargetError, stage_of, target_from_env
from kata.services import NOT_RUN_ENV, NotRun, service_of, summary_lines, write_not_run

pytest_plugins = ["kata.fixtures", "kata.stack_fixtures", "kata.deselection"]

_switch_key = pytest.StashKey[WorkitSwitch]()
_target_key = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata")
    group.addoption(
        "--solutions",
        action="store_true",
        help=f"run the tests against solutions/ instead of stages/ (same as {TARGET_ENV}=solutions)",
    )
    group.addoption(
        "--reference",
        action="store_true",
        help="run the tests marked reference against stages/ too (the mutation suite's mutants of the reference do)",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        target = "solutions" if config.getoption("solutions") else target_from_env()
    except TargetError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[_target_key] = target
    # Unit tests fake Giphy at its real address; the stand-in address is for real processes.
    os.environ.pop("GIPHY_API_URL", None)
    switch = WorkitSwitch()
    switch.install()
    config.stash[_switch_key] = switch
    config.pluginmanager.register(NotRunTracker(config), NotRunTracker.NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _switch_key in config.stash:
        config.stash[_switch_key].uninstall()
    tracker = config.pluginmanager.get_plugin(NotRunTracker.NAME)
    if tracker is not None:
        tracker.report()


class NotRunTracker:
    """The tests skipped for want of a service (kata.services): named in the run's very last
    lines, after pytest's own summary, with the command that installs what they need. Under
    `make test` (KATA_NOT_RUN set), written to that folder instead, for make test to list last."""

    NAME = "kata-not-run"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.not_run: list[NotRun] = []
        # This run's, not passed on: a pytest the tests start must not write in its place.
        self.folder = os.environ.pop(NOT_RUN_ENV, "")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and (service := service_of(str(report.longrepr))) is not None:
            self.not_run.append(NotRun(report.nodeid, service))

    def report(self) -> None:
        if self.folder:
            write_not_run(self.folder, "pytest", self.not_run)
        lines = summary_lines(self.not_run)
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if not lines or terminal is None:
            return
        if self.folder:
            lines = [f"{len(self.not_run)} test(s) not run here for want of a service: listed at the end."]
        for line in lines:
            terminal.write_line(line, yellow=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `reference` check what the reference app does beyond the step: they run
    against solutions/ only, never against the learner's code (unless --reference: a mutant of
    the reference, put in the learner's place)."""
    if config.stash[_target_key] == "solutions" or config.getoption("reference"):
        return
    beyond = [item for item in items if item.get_closest_marker("reference")]
    if beyond:
        items[:] = [item for item in items if not item.get_closest_marker("reference")]
        config.hook.pytest_deselected(items=beyond)


def pytest_report_header(config: pytest.Config) -> str:
    target = config.stash[_target_key]
    where = "your code in stages/" if target == "stages" else "the reference code in solutions/"
    return f"kata: testing {where}"


def code_dir_for(config: pytest.Config, path: Path) -> Path | None:
    """The directory holding the `workit` package that tests at `path` must import."""
    stage = stage_of(path, config.rootpath)
    return stage.code_dir(config.stash[_target_key]) if stage else None


def _use_code_for(config: pytest.Config, path: Path) -> None:
    directory = code_dir_for(config, path)
    if directory is not None:
        config.stash[_switch_key].use(directory)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, object, object]:
    if isinstance(collector, pytest.Module):
        _use_code_for(collector.config, collector.path)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    _use_code_for(item.config, item.path)
    return (yield)
