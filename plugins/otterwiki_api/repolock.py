"""A lock that serialises writers across threads *and* processes (several Lambda instances share
one repository on EFS). `fcntl.flock` on a file under `.git/`; re-entrant within a thread, so a
web-UI request that holds it can call GitStorage methods that take it again."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import Busy


class FileLock:
    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        self.acquire(timeout)
        try:
            yield
        finally:
            self.release()

    def acquire(self, timeout: float | None = None) -> None:
        """Wait up to `timeout` seconds (the lock's default if None), then raise Busy."""
        timeout = self.timeout if timeout is None else timeout
        if not self._thread_lock.acquire(timeout=timeout):
            raise Busy("another write is in progress; retry shortly")
        if self._depth == 0:
            try:
                self._fd = self._lock_file(timeout)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._thread_lock.release()

    def _lock_file(self, timeout: float) -> int:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o664)
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise Busy(
                        "the repository is locked by another writer; retry shortly"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
