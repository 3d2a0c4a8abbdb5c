"""Work-It: send yourself a GIF that matches your thought, by email."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from workit.config import from_environment


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(from_environment())
    if config is not None:
        app.config.update(config)

    from workit.health import bp as health_bp
    from workit.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(health_bp)
    # TODO(03_worker): give this Flask app its own Celery app here (README, task 1).
    return app
