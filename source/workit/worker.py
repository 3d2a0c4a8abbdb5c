#> file 03-
"""What `celery -A workit.worker worker` loads: a Flask app and the Celery app bound to it.

The worker is a second process. It builds its own Flask app from the environment (REDIS_URL,
GIPHY_API_KEY, MAIL_SERVER, ...), so run it with the same settings as the web app.
#> todo 03
(README, task 4.)
#> end
"""

from __future__ import annotations

#> task 03.4
from workit import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
#> or stub 03.4
raise NotImplementedError(
    "Step 03_worker, task 4: write workit/worker.py, the module `celery -A workit.worker` loads: "
    "a Flask app from the environment, and its Celery app. See stages/03_worker/README.md"
)
#> end
