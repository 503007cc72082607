"""A background thread of one process, started at most once at a time.

Work that should not hold a request (the page index's first build, semantic search's warm-up)
runs in a daemon thread. uWSGI imports the app in its master and forks the workers after
setup, and threads do not survive a fork, so the thread a parent started says nothing about a
worker: each process starts its own, on its first need.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class ProcessThread:
    def __init__(self, target: Callable[[], None], name: str, *, again: bool = False) -> None:
        """`again`: start a new thread once the last one has ended (else once per process)."""
        self.target, self.name, self.again = target, name, again
        self._started: tuple[int, threading.Thread] | None = None  # (pid, thread)
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Start the thread unless this process already has one (or had, without `again`);
        True when started now."""
        with self._lock:
            if self.started_here() and not (self.again and not self._thread_alive()):
                return False
            thread = threading.Thread(target=self.target, name=self.name, daemon=True)
            self._started = (os.getpid(), thread)
            thread.start()
            return True

    def started_here(self) -> bool:
        """Whether this process started the thread (a parent's, before a fork, does not count)."""
        started = self._started
        return started is not None and started[0] == os.getpid()

    def running_beside(self) -> bool:
        """Whether this process's thread is running and is not the caller."""
        started = self._started
        return (
            self.started_here()
            and started is not None
            and started[1].is_alive()
            and started[1] is not threading.current_thread()
        )

    def _thread_alive(self) -> bool:
        started = self._started
        return started is not None and started[1].is_alive()
