"""Checksums of git's index file that do not re-read what has not changed.

At 100,000 pages the index file is about 11 MB, and a write that patches one entry used to hash
it twice (verifying the old file, signing the new one): two thirds of the patch's time. A hash
is sequential, so the states it passes through every `CHUNK` bytes are kept: signing the new
file resumes from the last state before its first changed byte. And the file this process
wrote last is remembered with its states, so reading it back next time needs a comparison (a
memcmp) instead of a hash. Both are exact: nothing here trusts a file it has not compared.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

CHUNK = 1 << 18  # 256 KiB: about 45 saved states for an 11 MB index

Checkpoints = list[tuple[int, Any]]  # (offset, hash state after data[:offset])

_lock = threading.Lock()
_last: tuple[bytearray, str, Checkpoints] | None = None  # the last file signed here


def verified(data: bytes, algorithm: str, oid_size: int) -> Checkpoints | None:
    """The hash states over `data` without its trailing checksum, or None when that checksum
    is wrong."""
    with _lock:
        last = _last
    if last is not None and last[1] == algorithm and last[0] == data:
        return last[2]
    body = memoryview(data)[:-oid_size]
    checkpoints = _run(body, [(0, hashlib.new(algorithm))])
    if checkpoints[-1][1].digest() != data[-oid_size:]:
        return None
    return checkpoints


def signed(body: bytearray, unchanged: int, checkpoints: Checkpoints, algorithm: str) -> bytearray:
    """`body` with its checksum appended, remembered as the file last written (so nobody may
    change it afterwards; a copy of 11 MB would cost more than the rest). Its first
    `unchanged` bytes are those the states in `checkpoints` were taken over; hashing resumes
    from the last state within them."""
    kept = [c for c in checkpoints if c[0] <= unchanged] or [(0, hashlib.new(algorithm))]
    resumed = _run(memoryview(body), kept)
    body += resumed[-1][1].digest()
    global _last
    with _lock:
        _last = (body, algorithm, resumed)
    return body


def _run(body: memoryview, start: Checkpoints) -> Checkpoints:
    """`start` extended by hashing `body` from the last state's offset to its end, keeping a
    copy of the state at every CHUNK boundary and at the end."""
    offset, state = start[-1]
    state = state.copy()
    out = list(start)
    while offset < len(body):
        step = min(CHUNK - offset % CHUNK, len(body) - offset)
        state.update(body[offset : offset + step])
        offset += step
        out.append((offset, state.copy()))
    return out
