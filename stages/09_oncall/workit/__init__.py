"""Work-It: send yourself a GIF that matches your thought, by email."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from workit.config import check_secret_key, fallback_secret_key, from_environment


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(from_environment())
    if config is not None:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = fallback_secret_key(app)
    check_secret_key(app)

    from workit.celery_app import celery_init_app
    from workit.db import init_db
    from workit.health import bp as health_bp
    from workit.limits import init_limits
    from workit.views import bp

    init_db(app)
    init_limits(app)
    app.register_blueprint(bp)
    app.register_blueprint(health_bp)
    # After the blueprints: views.refuse_unreadable_forms must see the raw form first.
    CSRFProtect(app)  # every POST needs the form's csrf_token (WTF_CSRF_ENABLED turns it off)
    celery_init_app(app)
    return app
