"""When a sync step should merge segments of the vector store (done in that step: there is no
background worker on Lambda), so that the store neither piles up small segments nor keeps rows
that later steps replaced, while a step's writes stay small on average.

Size tiers: a segment stays only while it holds more than MERGE_RATIO times the live rows of all
the segments after it; so sizes fall geometrically, there are O(log n) segments, and a row is
rewritten O(log n) times over its life. Tombstones: a segment whose replaced rows pass DEAD_SHARE
is rewritten with everything after it.
"""

from __future__ import annotations

MERGE_RATIO = 2
DEAD_SHARE = 0.3
DEAD_MIN = 64  # fewer replaced rows than this are never worth a rewrite
MAX_SEGMENTS = 24


def tail_to_merge(rows: list[int], live: list[int]) -> int | None:
    """The first segment of the tail to merge into one (rows: rows per segment, live: rows not
    replaced since), or None when no merge is worth it."""
    n = len(rows)
    if n == 0:
        return None
    start, tail = n - 1, live[-1]
    while start > 0 and live[start - 1] <= MERGE_RATIO * tail:
        start -= 1
        tail += live[start]
    for i in range(start):
        dead = rows[i] - live[i]
        if dead >= DEAD_MIN and dead > DEAD_SHARE * rows[i]:
            start = i
            break
    start = min(start, MAX_SEGMENTS - 1)  # at most MAX_SEGMENTS remain
    if start == n - 1 and rows[start] == live[start]:
        return None  # one segment with nothing to drop: rewriting it gains nothing
    return start
