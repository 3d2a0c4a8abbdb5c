"""`kata watch`: the stage's check again on every save, and its events (saved files, keys
pressed) in one queue.

File changes come from watchfiles in a thread of their own; keys from the terminal in
another (cbreak mode, one key at a time, as rustlings' watch mode reads them). Where stdin
is no terminal there are no keys, and Ctrl-C or the end of input stops the watch.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kata import cache, feedback
from kata.hints import HintsError, SeenHints, load_hints
from kata.layout import Stage
from kata.project import short_name
from kata.reports import TestRun
from kata.session import Session

# Files editors write beside the real one and rename or delete at once: `sed -i`'s sedXXXXXX,
# vim's 4913 probe, swap and backup files, emacs's locks and autosaves, JetBrains' safe-write
# copies, gedit's .goutputstream-XXXXXX.
EDITOR_TEMPORARY = re.compile(
    r"^(sed[A-Za-z0-9]{6}|4913|\..*\.sw[a-z]|.*~|\.#.*|#.*#|.*\.tmp|.*___jb_(tmp|old)___|\.goutputstream-.*)$"
)


def is_editor_temporary(path: str) -> bool:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.endswith(".pyc") or EDITOR_TEMPORARY.match(name) is not None


def changed_names(changes: set[tuple[object, str]], root: Path) -> list[str]:
    """The files a batch of changes touched, relative to `root`, without editors' temporary files."""
    return sorted(
        {Path(p).relative_to(root).as_posix() for _, p in changes if Path(p).is_relative_to(root) and not is_editor_temporary(p)}
    )


def stages_done(names: list[str], latest: dict[str, object], kept: Callable[[str], object]) -> int:
    """How many stages are done: by the watch's latest run of each stage where it has one (a
    run that was not kept, an --integration run, still counts), else by the kept result."""
    done = 0
    for name in names:
        result = latest.get(name) or kept(name)
        done += bool(result is not None and getattr(result, "done", False))
    return done


KEYS = {"h": "hint", "r": "rerun", "n": "next", "l": "list", "q": "quit"}
KEYS_LINE = "Keys: h hint   r run again   n next stage   l all stages   q quit"


@dataclass(frozen=True)
class Event:
    kind: str  # "change", "key", "end"
    value: str | list[str] = ""


class Events:
    """One queue fed by the file watcher and the key reader."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Event] = queue.Queue()
        self._stop_files: threading.Event | None = None

    def watch_files(self, directory: Path, root: Path, poll: bool) -> None:
        """Watch `directory` (again: a previous watch stops)."""
        import watchfiles

        if self._stop_files is not None:
            self._stop_files.set()
        stop = self._stop_files = threading.Event()

        class Sources(watchfiles.DefaultFilter):
            def __call__(self, change: watchfiles.Change, path: str) -> bool:
                return super().__call__(change, path) and not is_editor_temporary(path)

        def run() -> None:
            for changes in watchfiles.watch(directory, watch_filter=Sources(), force_polling=poll or None, stop_event=stop):
                names = changed_names(changes, root)
                if names:
                    self.queue.put(Event("change", names))

        threading.Thread(target=run, name="kata-watch-files", daemon=True).start()

    def read_keys(self, stream: int) -> None:
        def run() -> None:
            while True:
                try:
                    data = os.read(stream, 1)
                except OSError:
                    data = b""
                if not data:
                    self.queue.put(Event("end"))
                    return
                key = data.decode(errors="replace").lower()
                if key in KEYS:
                    self.queue.put(Event("key", KEYS[key]))
                elif key == "\x04":  # Ctrl-D
                    self.queue.put(Event("end"))
                    return

        threading.Thread(target=run, name="kata-watch-keys", daemon=True).start()

    def read_lines(self) -> None:
        """--manual: Enter checks again; the end of input stops."""

        def run() -> None:
            for _ in sys.stdin:
                self.queue.put(Event("key", "rerun"))
            self.queue.put(Event("end"))

        threading.Thread(target=run, name="kata-watch-lines", daemon=True).start()

    def next(self) -> Event:
        while True:
            try:
                return self.queue.get(timeout=0.2)  # a timeout lets Ctrl-C through
            except queue.Empty:
                continue

    def stop(self) -> None:
        if self._stop_files is not None:
            self._stop_files.set()


def keys_available() -> bool:
    try:
        return sys.stdin.isatty() and os.name == "posix"
    except (AttributeError, ValueError):
        return False


@contextmanager
def cbreak(stream: int) -> Iterator[None]:
    """Keys arrive one by one, unechoed; the terminal is restored however the watch ends."""
    import termios
    import tty

    saved = termios.tcgetattr(stream)
    try:
        tty.setcbreak(stream)
        yield
    finally:
        termios.tcsetattr(stream, termios.TCSADRAIN, saved)


def progress_bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return f"[{'#' * filled}{'-' * (width - filled)}] {done} of {total} stages done"


# --- the loop ---------------------------------------------------------------------------------


def check_once(session: Session, stage: Stage, integration: bool, run: TestRun | None = None, fresh: bool = False) -> TestRun:
    """One check, its lines printed; the run it used (fresh: not from the cache)."""
    if run is None:
        args = ("--integration",) if integration else ()
        run = session.run([stage], f"checking {stage.name}", True, fresh, target="stages", pytest_args=args)
    feedback.check(session, stage, integration, False, False, run)
    return run


def done_count(session: Session, latest: dict[str, Any]) -> int:
    """How many stages are done: the watch's latest result of a stage, else the kept one (a
    stage never run counts as not)."""
    by_name = {stage.name: stage for stage in session.stages}
    return stages_done(list(by_name), latest, lambda name: cache.kept(session.root, by_name[name]))


def watch_hint(session: Session, stage: Stage, run: TestRun) -> None:
    echo = session.echo
    try:
        hints = load_hints(stage)
    except HintsError as error:
        echo(f"\n{error}")
        return
    if run.stage(stage.name).done:
        echo(f"\nEvery test of {stage.name} passes: no hint needed. A task's hints all the same: kata hint {short_name(stage)} TASK.")
        return
    seen = SeenHints(session.root)
    chosen, _ = feedback.pick_hint(hints, seen.seen(stage.name), run.stage(stage.name))
    if chosen is None:
        echo(f"\nYou have seen every hint for {stage.name}. A task's last hint again: kata hint {short_name(stage)} TASK.")
        return
    feedback.show_hint(session, seen, stage, hints, chosen)


def watch(session: Session, stage: Stage | None, manual: bool, poll: bool, integration: bool) -> None:
    """`kata watch`: check the stage (the one being written, without `stage`), then again on
    every save or key, until Ctrl-C, q or the end of input."""
    echo = session.echo
    first_run = None
    if stage is None:
        stage, first_run = feedback.first_open_stage(session, pytest_args=("--integration",) if integration else ())
    events = Events()
    keys = not manual and keys_available()
    run = check_once(session, stage, integration, first_run)
    latest: dict[str, Any] = {}  # each stage's newest result in this watch

    def waiting() -> None:
        latest.update({result.stage: result for result in run.stages})
        echo("")
        echo(progress_bar(done_count(session, latest), len(session.stages)))
        if manual:
            echo(f"Press Enter to check {stage.name} again (Ctrl-C stops).")
        else:
            echo(f"Watching {(session.root / 'stages' / stage.name).relative_to(session.root)} for changes (Ctrl-C stops).")
            if keys:
                echo(KEYS_LINE)

    if manual:
        events.read_lines()
    else:
        events.watch_files(session.root / "stages" / stage.name, session.root, poll)
    with cbreak(sys.stdin.fileno()) if keys else contextlib.nullcontext():
        if keys:
            events.read_keys(sys.stdin.fileno())
        # Only now say which keys work: entering cbreak mode flushes what was typed before
        # (tty.setcbreak uses TCSAFLUSH), so a key pressed on seeing the line earlier was lost.
        waiting()
        while True:
            event = events.next()
            if event.kind == "end" or event.value == "quit":
                events.stop()
                echo("Stopped watching.")
                return
            if event.kind == "change":
                echo(f"\n{time.strftime('%H:%M:%S')} changed: {', '.join(event.value) or 'files'}")
                run = check_once(session, stage, integration)
            elif event.value == "rerun":
                run = check_once(session, stage, integration, fresh=True)
            elif event.value == "hint":
                watch_hint(session, stage, run)
            elif event.value == "list":
                everything = session.run(session.stages, "all stages", True, target="stages")
                latest.update({result.stage: result for result in everything.stages})
                echo("")
                for line in feedback.status_lines(session.root, session.stages, everything, "stages"):
                    echo(line)
            elif event.value == "next":
                later = [s for s in session.stages if s.name > stage.name]
                if not run.stage(stage.name).done:
                    result = run.stage(stage.name)
                    echo(f"\n{stage.name} is not done yet: {result.total - result.passed} to go. Finish it first.")
                elif not later:
                    echo(f"\n{stage.name} was the last stage. Well done!")
                else:
                    stage = later[0]
                    echo(f"\nOn to {stage.name}: read stages/{stage.name}/README.md.")
                    if not manual:
                        events.watch_files(session.root / "stages" / stage.name, session.root, poll)
                    run = check_once(session, stage, integration)
            waiting()
