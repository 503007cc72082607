"""Files replaced whole (an index, a store, a state file): written to a temporary file beside
them, synced, then renamed over them, so a reader or a crash never sees half a file.

Callers hold the file's own cross-process lock, so a temporary file of the same name found then
belongs to a writer that was killed: it is removed (with a log line) instead of piling up.
"""

from __future__ import annotations

import glob
import logging
import os
import threading

log = logging.getLogger(__name__)


def temp_path(path: str) -> str:
    return f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"


def clear_leftovers(path: str) -> None:
    """Remove temporary files of `path` left by killed writers (the caller holds its lock)."""
    for leftover in glob.glob(glob.escape(path) + ".*.tmp"):
        if leftover == temp_path(path):
            continue
        log.warning("removing %s, left by a writer that was killed", leftover)
        try:
            os.remove(leftover)
        except FileNotFoundError:
            pass


def atomic_write(path: str, data: bytes, mode: int = 0o600) -> None:
    clear_leftovers(path)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    folder = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
