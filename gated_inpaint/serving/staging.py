"""Writing an export aside and renaming it into place: the temporary names, their removal on
failure and on SIGTERM, and the removal of what killed exports left behind.

A temporary is named `.tmp-<name>-<pid>` (and a replaced version `.old-<name>-<pid>`) beside
its final path: TF Serving only looks at numeric names, and the pid tells whether the process
that wrote it still runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator

TEMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"
_STAGED = re.compile(rf"^(?:{re.escape(TEMP_PREFIX)}|{re.escape(OLD_PREFIX)}).+-(\d+)$")
TERMINATED_STATUS = 128 + signal.SIGTERM


def temporary_path(final: str, prefix: str = TEMP_PREFIX) -> str:
    """The path beside `final` that this process writes it to first."""
    folder, name = os.path.split(final)
    return os.path.join(folder, f"{prefix}{name}-{os.getpid()}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale(folder: str) -> list[str]:
    """Removes the temporaries in `folder` whose writing process is gone (killed exports);
    returns their paths."""
    removed = []
    if not os.path.isdir(folder):
        return removed
    for name in os.listdir(folder):
        match = _STAGED.match(name)
        if match and int(match[1]) != os.getpid() and not _running(int(match[1])):
            path = os.path.join(folder, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            removed.append(path)
    return removed


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Inside the block, SIGTERM raises `SystemExit(143)`, so `finally` clauses (removing a
    temporary) run before the process ends. Only in the main thread, where signal handlers
    can be set; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(TERMINATED_STATUS)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
