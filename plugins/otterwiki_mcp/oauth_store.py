"""State of the local OAuth server: registered clients, approvals waiting for a person, codes and
tokens. In memory, or in one JSON file when a path is configured: then a restart keeps every
client and token, and processes sharing the file (several workers) share them too.

Tokens and codes are stored only as SHA-256 digests, so the file holds nothing a caller could
present. Every change happens under a lock (a thread lock plus `flock` on a lock file), re-reads
the file first and writes a temporary file that is renamed over the old one.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from otterwiki_api.atomicfile import atomic_write
from otterwiki_api.repolock import FileLock

SECTIONS = ("clients", "pending", "codes", "access", "refresh")
State = dict[str, dict[str, Any]]


def _empty() -> State:
    return {name: {} for name in SECTIONS}


class OAuthStore:
    def __init__(self, path: str | None = None, lock_timeout: float = 10.0) -> None:
        self.path = os.path.abspath(path) if path else None
        self._state = _empty()
        self._stamp: tuple[int, int, int] | None = None
        self._thread_lock = threading.RLock()
        self._file_lock = FileLock(self.path + ".lock", lock_timeout) if self.path else None
        if self.path:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)

    def _reload(self) -> None:
        """Re-read the file if another process (or a restart) changed it."""
        if not self.path:
            return
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._state, self._stamp = _empty(), None
            return
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        with open(self.path, encoding="utf-8") as f:
            loaded = json.load(f)
        self._state = {name: dict(loaded.get(name) or {}) for name in SECTIONS}
        self._stamp = stamp

    def _save(self) -> None:
        if not self.path:
            return
        atomic_write(self.path, json.dumps(self._state, sort_keys=True).encode("utf-8"))
        stat = os.stat(self.path)
        self._stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _purge(self) -> None:
        now = time.time()
        for name in SECTIONS:
            section = self._state[name]
            for key in [k for k, v in section.items() if (v.get("expires_at") or now + 1) < now]:
                del section[key]

    def get(self, section: str, key: str) -> dict[str, Any] | None:
        """One entry (a copy), e.g. a token's grant by its digest."""
        with self._thread_lock:
            self._reload()
            found = self._state[section].get(key)
            return copy.deepcopy(found) if found is not None else None

    @contextmanager
    def change(self) -> Iterator[State]:
        """The current state to modify in place; saved (expired entries dropped) on exit."""
        across_processes = self._file_lock.hold() if self._file_lock else nullcontext()
        with self._thread_lock, across_processes:
            self._reload()
            working = copy.deepcopy(self._state)
            yield working
            self._state = working
            self._purge()
            self._save()
