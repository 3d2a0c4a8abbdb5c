"""Work-It: send yourself a GIF that matches your thought, by email."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
#> extra 04
from flask_wtf.csrf import CSRFProtect

from workit.config import check_secret_key, fallback_secret_key, from_environment
#> or -04:stage

from workit.config import from_environment
#> end


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(from_environment())
    if config is not None:
        app.config.update(config)
    #> extra 04
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = fallback_secret_key(app)
    check_secret_key(app)
    #> end

    #> task 03.1
    from workit.celery_app import celery_init_app
    #> or task 06.1
    from workit.db import init_db
    #> or 02-
    from workit.health import bp as health_bp
    #> or task 06.1
    from workit.limits import init_limits
    #> end
    from workit.views import bp
#> -01

#> or extra 02

#> or todo 02
    # NEW(02_redis): the health blueprint, registered for you; its views are yours.
#> or task 06.1
    init_db(app)
    init_limits(app)
#> or stub 06.1
    # TODO(06_status): task 1 of the README: the app gets its database (workit/db.py) here,
    # before the blueprints that use it.
#> end
    app.register_blueprint(bp)
    #> 02-
    app.register_blueprint(health_bp)
    #> or stub 03.1
    # TODO(03_worker): give this Flask app its own Celery app here (README, task 1).
    #> or extra 04
    # After the blueprints: views.refuse_unreadable_forms must see the raw form first.
    CSRFProtect(app)  # every POST needs the form's csrf_token (WTF_CSRF_ENABLED turns it off)
    #> or task 03.1
    celery_init_app(app)
    #> end
    return app
