"""The outside services some tests need, and what a test does where one is missing.

- redis-server: never skipped for. Without it, the integration tier runs on an embedded Redis
  (fakeredis's TCP server); a test that stops, hangs or kills Redis gets that server in a child
  process of its own (`kata.stack.redis_process`), which SIGSTOP and SIGKILL treat as they
  would redis-server.
- Chromium (the browser tests) and PostgreSQL (stage 06's second database) cannot be stood in
  for: without them the test is skipped with a reason of the form `kata: missing service NAME
  (...)`, which the run's last lines list with the one command that installs what they need.
- `KATA_REQUIRE_SERVICES=1` (CI: `.ci/run`, ci.yml) makes a missing service a failure instead,
  the embedded Redis included, so nothing silently stops being tested there.
- `KATA_HIDE_SERVICES=chromium,postgresql` makes this run behave as if they were not installed
  (the tests of this module use it; so can you, to see what a bare machine does).

Importing this module does not import pytest: the self-check reads the reasons too.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

REQUIRE_ENV = "KATA_REQUIRE_SERVICES"
HIDE_ENV = "KATA_HIDE_SERVICES"
# A folder where each run writes the tests it did not run (`make test` sets it and lists them last)
NOT_RUN_ENV = "KATA_NOT_RUN"
REASON_PREFIX = "kata: missing service "
_REASON = re.compile(r"kata: missing service (?P<service>[\w.-]+)")


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    apt: str  # the Debian/Ubuntu package that installs it
    what: str  # what the tests use it for


SERVICES: dict[str, ServiceInfo] = {
    info.name: info
    for info in (
        ServiceInfo("redis-server", "redis-server", "Redis as a real process"),
        ServiceInfo("chromium", "chromium", "the browser tests"),
        ServiceInfo("postgresql", "postgresql", "stage 06's tests on PostgreSQL"),
    )
}


def required(environ: Mapping[str, str] = os.environ) -> bool:
    """KATA_REQUIRE_SERVICES=1: a test that would skip for a missing service fails instead."""
    return environ.get(REQUIRE_ENV, "").strip() == "1"


def hidden(name: str, environ: Mapping[str, str] = os.environ) -> bool:
    """KATA_HIDE_SERVICES names `name`: behave as if it were not installed."""
    return name in {part.strip() for part in environ.get(HIDE_ENV, "").split(",")}


def which(name: str, service: str | None = None) -> str | None:
    """shutil.which(name), unless the service it belongs to (default: `name`) is hidden."""
    return None if hidden(service or name) else shutil.which(name)


def chromium_path() -> str | None:
    """The Chromium the browser tests drive: KATA_CHROMIUM, else chromium on PATH."""
    if hidden("chromium"):
        return None
    return os.environ.get("KATA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def install_command(names: Iterable[str]) -> str:
    packages = sorted({SERVICES[name].apt if name in SERVICES else name for name in names})
    return f"sudo apt-get install {' '.join(packages)}"


def skip_reason(name: str, detail: str) -> str:
    """The recognisable reason of a test skipped for want of `name`."""
    return f"{REASON_PREFIX}{name} ({detail}); to run it: {install_command([name])}"


def service_of(reason: str) -> str | None:
    """The service a skip reason names, or None for any other skip."""
    found = _REASON.search(reason or "")
    return found.group("service") if found else None


def missing(name: str, detail: str) -> NoReturn:
    """Skip the current test for want of the service `name`; under KATA_REQUIRE_SERVICES=1, fail it."""
    import pytest

    if required():
        pytest.fail(
            f"{name} is missing ({detail}) and {REQUIRE_ENV}=1 makes that a failure: "
            f"{install_command([name])}",
            pytrace=False,
        )
    pytest.skip(skip_reason(name, detail))


def require_real(name: str, detail: str) -> None:
    """Where the test can go on with a stand-in for `name` (the embedded Redis): fail under
    KATA_REQUIRE_SERVICES=1, where the real service must be tested; return otherwise."""
    import pytest

    if required():
        pytest.fail(
            f"{name} is missing ({detail}) and {REQUIRE_ENV}=1 refuses the stand-in: {install_command([name])}",
            pytrace=False,
        )


# --- what did not run ---------------------------------------------------------------------


@dataclass(frozen=True)
class NotRun:
    test: str  # a pytest node id
    service: str


def summary_lines(not_run: Iterable[NotRun]) -> list[str]:
    """The last lines of a run: which tests did not run, and the command that installs what they need."""
    entries = sorted(set(not_run), key=lambda entry: (entry.test, entry.service))
    if not entries:
        return []
    services = sorted({entry.service for entry in entries})
    count = "1 test" if len(entries) == 1 else f"{len(entries)} tests"
    lines = [f"{count} did not run here, for want of {' and '.join(services)} (skipped, not failed):"]
    lines += [f"  - {entry.test} (needs {entry.service})" for entry in entries]
    lines.append(f"To run {'it' if len(entries) == 1 else 'them'}: {install_command(services)}")
    return lines


def write_not_run(folder: str | Path, run: str, not_run: Iterable[NotRun]) -> None:
    """Record, as `run` in `folder` (KATA_NOT_RUN), the tests this run did not run (none: an empty file)."""
    path = Path(folder) / f"{run}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{entry.service}\t{entry.test}\n" for entry in not_run), encoding="utf-8")


def read_not_run(folder: str | Path) -> list[NotRun]:
    found = []
    for path in sorted(Path(folder).glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            service, _, test = line.partition("\t")
            if test:
                found.append(NotRun(test, service))
    return found


def main(argv: list[str] | None = None) -> int:
    """`python -m kata.services FOLDER`: what the runs that wrote to FOLDER (KATA_NOT_RUN) left out,
    as one summary: `make test`'s last lines."""
    import sys

    (folder,) = sys.argv[1:] if argv is None else argv
    lines = summary_lines(read_not_run(folder))
    print("\n".join(lines) if lines else "Every test ran: no service was missing.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
