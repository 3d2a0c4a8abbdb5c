"""One `workit` package per stage, in one Python process.

Every stage and every solution holds a package called `workit`. The switch decides which
directory `import workit` resolves to, and keeps each directory's imported modules apart:
when the active directory changes, the modules imported from the old one leave
`sys.modules` (kept aside for later) and the new one's come back. Celery's `@shared_task`
registers its tasks in a process-wide list of app finalizers; those belong to a stage too.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from kata.layout import PACKAGE


def _is_workit(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _defined_in_workit(finalizer: Callable[..., object]) -> bool:
    """True for a Celery finalizer made by `@shared_task` on a function from `workit`."""
    candidates: list[object] = [finalizer]
    candidates += [cell.cell_contents for cell in getattr(finalizer, "__closure__", None) or ()]
    return any(_is_workit(getattr(c, "__module__", None) or "") for c in candidates)


def _celery_finalizers() -> set[Callable[..., object]] | None:
    state = sys.modules.get("celery._state")
    return getattr(state, "_on_app_finalizers", None)


def _forget_celery_apps_with_workit_tasks() -> None:
    """Keep the next stage's `@shared_task` out of the Celery apps this stage's tests made."""
    state = sys.modules["celery._state"]
    for app in list(getattr(state, "_apps", ())):
        tasks = getattr(app, "_tasks", None) or {}
        if any(_is_workit(getattr(task, "__module__", "") or "") for task in tasks.values()):
            state._deregister_app(app)


class WorkitSwitch(importlib.abc.MetaPathFinder):
    """Resolve `import workit` to the active directory; stash each directory's modules."""

    def __init__(self) -> None:
        self.active: Path | None = None
        self._modules: dict[Path | None, dict[str, ModuleType]] = {}
        self._finalizers: dict[Path | None, set[Callable[..., object]]] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        if self.active is None:
            raise ModuleNotFoundError(
                f"`import {PACKAGE}` ran outside any stage's tests, so the kata cannot tell which "
                f"stage's {PACKAGE} you mean. Import it inside a test or a fixture (a conftest.py "
                "is loaded before the stage is chosen), not at the top of a conftest.py.",
                name=fullname,
            )
        spec = importlib.machinery.PathFinder.find_spec(fullname, [str(self.active)])
        if spec is None:
            raise ModuleNotFoundError(
                f"No package {PACKAGE!r} in {self.active}: the stage's code should be at "
                f"{self.active / PACKAGE}/__init__.py. Did it get moved or renamed?",
                name=fullname,
            )
        return spec

    def use(self, directory: Path | None) -> None:
        """Make `directory` the one `import workit` reads from."""
        if directory == self.active:
            return
        self._stash(self.active)
        self._restore(directory)
        self.active = directory

    def _stash(self, directory: Path | None) -> None:
        self._modules[directory] = {
            name: sys.modules.pop(name) for name in [n for n in sys.modules if _is_workit(n)]
        }
        finalizers = _celery_finalizers()
        if finalizers is not None:
            owned = {f for f in finalizers if _defined_in_workit(f)}
            finalizers -= owned
            self._finalizers[directory] = owned
            _forget_celery_apps_with_workit_tasks()

    def _restore(self, directory: Path | None) -> None:
        sys.modules.update(self._modules.pop(directory, {}))
        finalizers = _celery_finalizers()
        if finalizers is not None:
            finalizers |= self._finalizers.pop(directory, set())

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        self.use(None)
        if self in sys.meta_path:
            sys.meta_path.remove(self)
