"""Grading is reproducible only if every package is pinned, on every supported Python."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def supported_pythons() -> list[str]:
    """The Pythons pyproject's classifiers promise, e.g. ['3.10', ..., '3.13']."""
    return re.findall(r"Programming Language :: Python :: (3\.\d+)\"", (ROOT / "pyproject.toml").read_text())


def pins_for(python: str) -> dict[str, str]:
    """constraints.txt as {name: version} for one Python version (markers evaluated)."""
    environment = default_environment() | {"python_version": python, "python_full_version": f"{python}.0"}
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        (operator_version,) = requirement.specifier
        assert operator_version.operator == "==", f"constraints.txt pins with ==: {line}"
        assert name not in pins, f"{requirement.name} is pinned twice for Python {python}"
        pins[name] = operator_version.version
    return pins


def installed_closure() -> dict[str, str]:
    """Every distribution the kata's own requirements pull in here, with its version."""
    kata = metadata.distribution("workit-kata")
    extras = {"dev", "stack"} | ({"bench"} if _installed("matplotlib") else set())
    wanted = [(Requirement(text), extras) for text in kata.requires or []]
    found: dict[str, str] = {}
    while wanted:
        requirement, with_extras = wanted.pop()
        environment = default_environment()
        if requirement.marker is not None and not any(
            requirement.marker.evaluate(environment | {"extra": extra}) for extra in with_extras | {""}
        ):
            continue
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        distribution = metadata.distribution(requirement.name)
        found[name] = distribution.version
        wanted += [(Requirement(text), set(requirement.extras)) for text in distribution.requires or []]
    return found


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_the_supported_pythons_are_tested_everywhere():
    pythons = supported_pythons()
    assert pythons and pythons[0] == "3.10", pythons
    tox = (ROOT / "tox.ini").read_text()
    braces = re.search(r"env_list = py3\{([\d,]+)\}", tox)
    assert braces and [f"3.{minor}" for minor in braces.group(1).split(",")] == pythons, "tox.ini env_list"
    (job,) = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())["jobs"].values()
    assert job["strategy"]["matrix"]["python-version"] == pythons, "ci.yml matrix"
    setup = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip", "ci.yml caches pip (per Python version: setup-python keys it so)"
    assert "Programming Language :: Python ::" in (ROOT / ".ci" / "run").read_text(), (
        ".ci/run takes the Pythons from pyproject's classifiers"
    )


def test_every_supported_python_has_a_pin_for_every_package():
    names = {python: set(pins_for(python)) for python in supported_pythons()}
    oldest, newest = names[supported_pythons()[0]], names[supported_pythons()[-1]]
    assert "maildump" in oldest and "maildump" in newest
    assert pins_for("3.11")["maildump"] == "1.0", "maildump 1.1 needs Python 3.12"
    assert pins_for("3.12")["maildump"] != "1.0", "maildump 1.0 imports asyncore, gone in Python 3.12"
    assert {"pyasyncore", "pyasynchat"} <= newest - oldest


def test_what_is_installed_is_what_constraints_pin_for_this_python():
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    pins = pins_for(python)
    installed = installed_closure()
    unpinned = sorted(set(installed) - set(pins))
    assert not unpinned, f"installed on Python {python} but not pinned in constraints.txt: {unpinned}"
    drifted = {name: (version, pins[name]) for name, version in installed.items() if version != pins[name]}
    assert not drifted, f"installed (left) differs from constraints.txt (right) on Python {python}: {drifted}"
