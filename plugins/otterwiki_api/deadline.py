"""How long the current request may still run: on Lambda, until the invocation's timeout.

Lambda stops a function at its timeout wherever it is, mid-commit too; the commit path recovers
from that (the journal), but a write refused before it starts is better than one killed half
way. The Lambda entry sets the deadline from the invocation's context; a write then waits for
the repository lock only as long as time allows and starts committing only with `RESERVE`
seconds left. Without a deadline (a plain Otterwiki, `wikibot serve --direct`) nothing changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import Busy

RESERVE = 3.0  # seconds a write needs to commit, bring the index along and answer, on EFS too

_deadline: ContextVar[float | None] = ContextVar("wikibot_deadline", default=None)


@contextmanager
def until(seconds_left: float) -> Iterator[None]:
    """Run the block with `seconds_left` seconds from now as the deadline."""
    token = _deadline.set(time.monotonic() + seconds_left)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (None: no deadline)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def wait_limit(timeout: float, keep: float = RESERVE) -> float:
    """`timeout`, shortened so that `keep` seconds are left after waiting that long."""
    left = remaining()
    return timeout if left is None else max(0.0, min(timeout, left - keep))


def require(seconds: float = RESERVE) -> None:
    """Refuse (503, nothing written) when less than `seconds` are left."""
    left = remaining()
    if left is not None and left < seconds:
        raise Busy(
            f"not enough time left in this request to commit safely ({max(left, 0):.1f} s); "
            "nothing was written: retry"
        )
