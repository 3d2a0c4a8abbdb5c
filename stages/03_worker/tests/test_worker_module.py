"""workit/worker.py: the module `celery -A workit.worker worker` loads to find its Celery app."""

from __future__ import annotations

import sys

import pytest
from celery import Celery
from celery.app.utils import find_app

NAME = "workit.tasks.send_randomness_email"
WORKER_REDIS_URL = "redis://kata-worker-redis.invalid:6396/7"
FRESH = ("workit.worker", "workit.tasks")

# Importing workit.tasks afresh makes Celery warn that the older test apps already know a
# task of that name. In a real new process there are no older apps.
pytestmark = pytest.mark.filterwarnings("ignore:Task name .* is already registered")


def _from_workit_tasks(finalizer) -> bool:
    """True for the hook a shared task leaves in Celery for a function of workit.tasks."""
    contents = []
    for cell in getattr(finalizer, "__closure__", None) or ():
        try:
            contents.append(cell.cell_contents)
        except ValueError:
            pass
    return any(getattr(c, "__module__", None) == "workit.tasks" for c in contents)


@pytest.fixture
def new_process(monkeypatch):
    """As in a freshly started `celery worker`: workit.worker and workit.tasks not imported yet.

    REDIS_URL is set in the environment, as you would set it for a worker.
    """
    import workit
    from celery import _state

    monkeypatch.setenv("REDIS_URL", WORKER_REDIS_URL)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    for name in FRESH:
        monkeypatch.delattr(workit, name.rpartition(".")[2], raising=False)
        monkeypatch.delitem(sys.modules, name, raising=False)
    finalizers = _state._on_app_finalizers
    saved = set(finalizers)
    finalizers.difference_update({f for f in saved if _from_workit_tasks(f)})
    yield
    for name in FRESH:
        sys.modules.pop(name, None)
    finalizers.clear()
    finalizers.update(saved)


def load_worker_app() -> Celery:
    """What `celery -A workit.worker worker` does first: import the module, find its Celery app."""
    try:
        found = find_app("workit.worker")
    except NotImplementedError:
        raise
    except Exception as error:
        hint = (
            " create_app() did not put a Celery app in app.extensions['celery']: call "
            "celery_init_app(app) in create_app."
            if isinstance(error, KeyError)
            else ""
        )
        raise AssertionError(
            f"`celery -A workit.worker worker` cannot load its app: finding it in workit.worker "
            f"raised {type(error).__name__}: {error}.{hint} workit/worker.py should make the "
            "Flask app with create_app() and keep its Celery app in a module-level variable."
        ) from error
    if not isinstance(found, Celery) and getattr(sys.modules.get("workit.worker"), "app", None) is found:
        raise AssertionError(
            f"`celery -A workit.worker` found {found!r}, the module's attribute named `app`, and "
            "not a Celery app. Given a module, Celery looks for its app in this order: an "
            "attribute named `app`, whatever it holds; then one named `celery`; only then any "
            "Celery app in the module (Celery's docs, Next Steps: \"About the --app argument\"). "
            "An attribute `app` that holds the Flask app hides the Celery app beside it. Name "
            "your module-level variables so that Celery's first pick is the Celery app."
        )
    assert isinstance(found, Celery), (
        f"`celery -A workit.worker` found {found!r}; expected the celery.Celery app of the Flask "
        "app that workit/worker.py makes. Given a module, Celery takes its attribute named "
        "`app`, else one named `celery`, else any Celery app it holds."
    )
    return found


def test_celery_dash_a_workit_worker_finds_a_celery_app(new_process):
    celery = load_worker_app()

    import workit.worker

    flask_apps = [value for value in vars(workit.worker).values() if hasattr(value, "extensions")]
    assert any(a.extensions.get("celery") is celery for a in flask_apps), (
        f"workit.worker holds the Celery app {celery!r}, but no Flask app of its own whose "
        "app.extensions['celery'] it is. Make the Flask app there with create_app(), and take "
        "its Celery app from app.extensions['celery']: that Celery app's tasks run in that "
        "Flask app's context."
    )


def test_the_worker_s_broker_is_redis_url_from_the_environment(new_process):
    celery = load_worker_app()

    assert celery.conf.broker_url == WORKER_REDIS_URL, (
        f"with REDIS_URL={WORKER_REDIS_URL!r} in the environment, `celery -A workit.worker` "
        f"found a Celery app whose broker_url is {celery.conf.broker_url!r}; expected "
        f"{WORKER_REDIS_URL!r}. The worker runs create_app() with no arguments, so the "
        "settings come from the environment, like the web app's."
    )


def test_a_new_worker_process_knows_the_task(new_process):
    celery = load_worker_app()

    try:
        celery.loader.import_default_modules()  # what a starting worker does: it imports `include`
    except ImportError as error:
        raise AssertionError(
            f"a freshly started `celery -A workit.worker worker` could not import the modules "
            f"its Celery app names in include: {type(error).__name__}: {error}. include lists "
            f"modules by their import path, as `import` would name them: 'workit.tasks', not a "
            "file name or a path."
        ) from error
    ours = sorted(name for name in celery.tasks if not name.startswith("celery."))
    assert NAME in ours, (
        f"a freshly started `celery -A workit.worker worker` knows the tasks {ours!r}; "
        f"expected {NAME!r} among them. A new process knows only the tasks of the modules "
        "it imports, and nothing imports workit/tasks.py there: the Celery app must name the "
        "modules a worker imports as it starts (README, task 4; the worker lists its tasks "
        "under [tasks]). Without the task, the worker drops every email message as an "
        "unregistered task. Read Celery's Next Steps, project layout: "
        "https://docs.celeryq.dev/en/stable/getting-started/next-steps.html#project-layout"
    )
