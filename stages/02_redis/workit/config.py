"""Settings read from the environment, with development defaults where that is safe."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

MAIL_SENDER = "gob@example.com"


def from_environment(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    return {
        "SECRET_KEY": environ.get("SECRET_KEY", "dev-only-not-secret"),
        "GIPHY_API_KEY": environ.get("GIPHY_API_KEY"),
        "GIPHY_TIMEOUT": float(environ.get("GIPHY_TIMEOUT", "5")),
        "MAIL_SERVER": environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(environ.get("MAIL_PORT", "1025")),
        "MAIL_TIMEOUT": float(environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_SENDER": MAIL_SENDER,
        # NEW(02_redis): where Redis is, and how long to wait for it (seconds).
        "REDIS_URL": environ.get("REDIS_URL", "redis://localhost:6379/0"),
        "REDIS_TIMEOUT": float(environ.get("REDIS_TIMEOUT", "1")),
    }
