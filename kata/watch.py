"""`kata watch`'s events: saved files, keys pressed, in one queue.

File changes come from watchfiles in a thread of their own; keys from the terminal in
another (cbreak mode, one key at a time, as rustlings' watch mode reads them). Where stdin
is no terminal there are no keys, and Ctrl-C or the end of input stops the watch.
"""

from __future__ import annotations

import os
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
