"""What `celery -A workit.worker worker` loads: a Flask app and the Celery app bound to it.

The worker is a second process. It builds its own Flask app from the environment (REDIS_URL,
GIPHY_API_KEY, MAIL_SERVER, ...), so run it with the same settings as the web app.
"""

from __future__ import annotations

from workit import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
