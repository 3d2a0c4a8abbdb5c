"""pytest plugin for the floor: at the end of a run, write every module this process imported.

Loaded with `-p bench.probe` by `bench.feedback`; writes nothing unless BENCH_MODULES_OUT is set.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

OUT_ENV = "BENCH_MODULES_OUT"


def pytest_unconfigure(config: Any) -> None:
    out = os.environ.get(OUT_ENV)
    if not out:
        return
    modules = [[name, getattr(module, "__file__", None)] for name, module in list(sys.modules.items())]
    with open(out, "w") as handle:
        json.dump(modules, handle)
