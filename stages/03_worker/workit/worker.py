"""What `celery -A workit.worker worker` loads: a Flask app and the Celery app bound to it.

The worker is a second process. It builds its own Flask app from the environment (REDIS_URL,
GIPHY_API_KEY, MAIL_SERVER, ...), so run it with the same settings as the web app.

TODO (step 03_worker): replace the `raise` below. Make a Flask app with `create_app()` (no
arguments: the settings come from the environment) and keep its Celery app, the one
create_app stored in `app.extensions["celery"]`, in a module-level variable such as
`celery_app`. `celery -A workit.worker` imports this module and uses the Celery app it finds.
"""

from __future__ import annotations

from workit import create_app  # noqa: F401  (you need it for the TODO above)

raise NotImplementedError(
    "Step 03_worker: write workit/worker.py: make the Flask app with create_app() and keep its "
    "Celery app in a module-level variable. See stages/03_worker/README.md"
)
