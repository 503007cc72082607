"""Where a benchmark's time goes: functions wrapped, in the benchmark's process only, so each
call adds its seconds to a tally by label."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import Any


def timed(owner: Any, name: str, label: str, tally: MutableMapping[str, float]) -> None:
    """Wrap `owner.name` (a module's function or a class's method) so each call adds its
    seconds to `tally[label]`."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            tally[label] = tally.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, wrapper)
