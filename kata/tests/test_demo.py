"""`make demo` end to end (`--integration`): the story it tells must be the lesson's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_the_demo_shows_the_first_request_and_the_steady_state_with_a_ratio_for_each() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "GIPHY_API_KEY", "SECRET_KEY")}
    demo = subprocess.run(
        [sys.executable, "-m", "kata.demo", "--giphy-delay", "0.3"],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=200,
    )  # fmt: skip
    out = demo.stdout + demo.stderr

    assert demo.returncode == 0, out
    first = out.find("the first request")
    steady = out.find("steady state (median of the next 20")
    assert 0 <= first < steady, (
        "the demo should time the first request (which pays for connecting to Redis) and, "
        f"apart, the steady state: the median of the next 20. It said:\n{out}"
    )
    for part in (out[first:steady], out[steady:]):
        assert re.search(r"synchronous app: +[\d.]+ ms", part) and re.search(r"background app: +[\d.]+ ms", part), out
        assert re.search(r"the background request was \d+x faster", part), out
    assert "Traceback" not in out and "Done: nothing left running." in out, out
