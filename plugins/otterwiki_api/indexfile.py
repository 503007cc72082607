"""Patching entries of git's index file in place, for the common write: files that are already
tracked get new contents.

`git update-index` on a 10,000-entry index takes 8-10 ms (it verifies and rewrites the whole
file, and rebuilds the cache tree); changing the few entries a write touches takes about 2 ms,
with the checksum resumed from the first changed byte (indexsum.py). Only the simple case is
done here — a version 2 or 3 index, every path already an entry at stage 0, no split or sparse
index — and None tells the caller to let git do it. Patched entries get zero stat data, so git
compares their contents on its next look (as after `update-index --index-info`); the file keeps
the old index's time, so git's racy-clean rule judges every other entry exactly as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from .gitobjects import Entry
from .indexsum import signed, verified

_VALID_MODES = {0o100644, 0o100755, 0o120000, 0o160000}
_FIXED = 62  # stat data (40 bytes), object id (20), flags (2) in a sha1 index
_DROPPED = {b"EOIE", b"IEOT"}  # offsets into the file; optional, git writes them anew
_UNSUPPORTED = {b"link", b"sdir"}  # split and sparse indexes: git's job


def patch_index(
    data: bytes, entries: Mapping[str, Entry | None], algorithm: str
) -> bytearray | None:
    """The index `data` with `entries` set (None: removed), or None when this is not the simple
    case. The answer is to be written, not changed (indexsum remembers it)."""
    oid_size = hashlib.new(algorithm).digest_size
    if len(data) < 12 + oid_size or data[:4] != b"DIRC":
        return None
    if int.from_bytes(data[4:8], "big") not in (2, 3):
        return None
    checkpoints = verified(data, algorithm, oid_size)
    if checkpoints is None:
        return None  # not a whole index
    fixed = _FIXED - 20 + oid_size
    out = bytearray(data)
    del out[-oid_size:]
    end = _entries_end(out, oid_size)
    if end is None:
        return None
    extensions = _extensions(bytes(out[end:]))
    if extensions is None:
        return None
    count = int.from_bytes(out[8:12], "big")
    unchanged = end  # bytes before the first change, which the old file's hash states cover
    # last path first: an edit never moves an entry that a later one still has to find
    for path in sorted(entries, reverse=True):
        entry = entries[path]
        name = path.encode("utf-8", "surrogateescape")
        start = _find(out, name, fixed, end)
        if start is None and entry is None:
            continue  # removing what the index does not hold
        if start is None:
            if len(name) >= 0xFFF or any(sig == b"FSMN" for sig, _ in extensions):
                return None  # the fsmonitor bitmap counts entries by position
            start = _insertion_point(out, name, fixed, end)
            if start is None:
                return None
            record = _entry(name, entry, fixed, oid_size)
            out[start:start] = record
            unchanged = min(unchanged, start)  # (a move adds one and removes one: same count)
            end += len(record)
            count += 1
            continue
        size = (fixed + len(name) + 8) & ~7
        if int.from_bytes(out[start + fixed - 2 : start + fixed], "big") & 0x4000:
            size = (fixed + 2 + len(name) + 8) & ~7
        if entry is None:
            if any(sig == b"FSMN" for sig, _ in extensions):
                return None
            del out[start : start + size]
            unchanged = min(unchanged, start)
            end -= size
            count -= 1
            continue
        unchanged = min(unchanged, start)
        out[start : start + 24] = bytes(24)  # ctime, mtime, dev, ino
        out[start + 24 : start + 28] = int(entry.mode, 8).to_bytes(4, "big")
        out[start + 28 : start + 40] = bytes(12)  # uid, gid, size
        out[start + 40 : start + 40 + oid_size] = bytes.fromhex(entry.blob)
    if out[8:12] != count.to_bytes(4, "big"):  # added or removed entries: from the header on
        out[8:12] = count.to_bytes(4, "big")
        unchanged = 8
    folders = {p.rsplit("/", 1)[0] if "/" in p else "" for p in entries}
    kept = b"".join(
        _invalidate(raw, folders, oid_size) if sig == b"TREE" else raw
        for sig, raw in extensions
        if sig not in _DROPPED
    )
    del out[end:]
    out += kept
    return signed(out, unchanged, checkpoints, algorithm)


def _entry(name: bytes, entry: Entry, fixed: int, oid_size: int) -> bytes:
    """A new stage-0 entry with zero stat data: git compares its content on its next look."""
    record = bytearray((fixed + len(name) + 8) & ~7)
    record[24:28] = int(entry.mode, 8).to_bytes(4, "big")
    record[40 : 40 + oid_size] = bytes.fromhex(entry.blob)
    record[fixed - 2 : fixed] = len(name).to_bytes(2, "big")
    record[fixed : fixed + len(name)] = name
    return bytes(record)


def _entry_at(data: bytearray, start: int, fixed: int, end: int) -> tuple[bytes, int] | None:
    """(name, size) of a plausible entry at `start`, None if the bytes there are not one."""
    if start + fixed > end:
        return None
    if int.from_bytes(data[start + 24 : start + 28], "big") not in _VALID_MODES:
        return None
    flags = int.from_bytes(data[start + fixed - 2 : start + fixed], "big")
    extra = 2 if flags & 0x4000 else 0
    length = flags & 0xFFF
    if length == 0xFFF:
        return None
    name_end = start + fixed + extra + length
    size = (fixed + extra + length + 8) & ~7
    if start + size > end or not _padding_ok(data, name_end, start):
        return None
    name = bytes(data[start + fixed + extra : name_end])
    return (name, size) if b"\0" not in name else None


def _next_entry(data: bytearray, pos: int, fixed: int, end: int) -> tuple[int, bytes, int] | None:
    """The first entry starting at or after `pos` whose successor is also an entry (or the end
    of the entries): entries start on 8-byte boundaries from offset 12."""
    pos = 12 + -(-(pos - 12) // 8) * 8
    while pos < end:
        found = _entry_at(data, pos, fixed, end)
        if found is not None:
            after = pos + found[1]
            if after == end or _entry_at(data, after, fixed, end) is not None:
                return pos, found[0], found[1]
        pos += 8
    return None


def _insertion_point(data: bytearray, name: bytes, fixed: int, end: int) -> int | None:
    """Where an entry named `name` goes in the sorted entries: a binary search over byte
    offsets, each probe moved forward to the next entry."""
    lo, hi = 12, end  # the point lies in [lo, hi], both entry starts (or the end)
    while True:
        probe = _next_entry(data, (lo + hi) // 2, fixed, hi)
        if probe is None or probe[0] >= hi:
            break
        start, other, size = probe
        if other == name:
            return None  # there already (at another stage): git's job
        if other < name:
            lo = start + size
        elif start == lo:
            return lo
        else:
            hi = start
    pos = lo
    while pos < hi:  # a short walk: the search left at most one entry's width
        found = _entry_at(data, pos, fixed, end)
        if found is None:
            return None
        if found[0] == name:
            return None
        if found[0] > name:
            return pos
        pos += found[1]
    return hi


def _invalidate(raw: bytes, folders: set[str], oid_size: int) -> bytes:
    """The cache-tree extension with the trees above `folders` marked invalid (entry count -1,
    no object id), as git does when entries below them change; the rest stays valid, so git's
    next `write-tree` or `commit` still skips every untouched folder. Its nodes come in
    pre-order: `name NUL count SP subtrees LF [id]`."""
    stale = {""}
    for folder in folders:
        parts = folder.split("/") if folder else []
        stale.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    data = raw[8:]
    out = bytearray()
    pos = 0
    stack: list[tuple[str, int]] = []  # (path of a node, subtrees still to come)
    while pos < len(data):
        nul = data.index(b"\0", pos)
        newline = data.index(b"\n", nul)
        name = data[pos:nul].decode("utf-8", "surrogateescape")
        count, subtrees = data[nul + 1 : newline].split(b" ")
        while stack and stack[-1][1] == 0:
            stack.pop()
        parent = stack[-1][0] if stack else None
        if stack:
            stack[-1] = (parent, stack[-1][1] - 1)
        path = "" if parent is None else (f"{parent}/{name}" if parent else name)
        pos = newline + 1
        oid = b""
        if int(count) >= 0:
            oid = data[pos : pos + oid_size]
            pos += oid_size
        if path in stale:
            count, oid = b"-1", b""
        out += data[nul - len(name.encode("utf-8", "surrogateescape")) : nul + 1]
        out += count + b" " + subtrees + b"\n" + oid
        stack.append((path, int(subtrees)))
    return b"TREE" + len(out).to_bytes(4, "big") + bytes(out)


def _find(data: bytearray, name: bytes, fixed: int, end: int) -> int | None:
    """Start of the stage-0 entry named `name`, checked well enough that a path ending in the
    same bytes is never mistaken for it."""
    needle = name + b"\0"
    pos = data.find(needle, 12, end)
    while pos != -1:
        for extended in (False, True):
            start = pos - fixed - (2 if extended else 0)
            if start < 12:
                continue
            flags = int.from_bytes(data[start + fixed - 2 : start + fixed], "big")
            if (
                bool(flags & 0x4000) == extended
                and (flags >> 12) & 3 == 0
                and (flags & 0xFFF) == min(len(name), 0xFFF)
                and int.from_bytes(data[start + 24 : start + 28], "big") in _VALID_MODES
                and _padding_ok(data, pos + len(name), start)
            ):
                return start
        pos = data.find(needle, pos + 1, end)
    return None


def _padding_ok(data: bytearray, name_end: int, start: int) -> bool:
    """An entry's name is followed by 1 to 8 NULs up to a multiple of 8 from its start."""
    size = (name_end - start + 8) & ~7
    return data[name_end : start + size] == bytes(start + size - name_end)


def _entries_end(data: bytearray, oid_size: int) -> int | None:
    """Where the extensions begin. git writes the cache tree (TREE) first when it has one:
    the last "TREE" from which the extensions parse exactly to the end is it (found in C, not
    by walking 10,000 entries in Python); without one, the entries are walked by their sizes."""
    pos = len(data)
    while True:
        pos = data.rfind(b"TREE", 12, pos)
        if pos == -1:
            break
        if pos % 8 == 4 and _extensions(bytes(data[pos:])) is not None:
            return pos
    count = int.from_bytes(data[8:12], "big")
    pos = 12
    fixed = _FIXED - 20 + oid_size
    for _ in range(count):
        flags = int.from_bytes(data[pos + fixed - 2 : pos + fixed], "big")
        extra = 2 if flags & 0x4000 else 0
        length = flags & 0xFFF
        if length == 0xFFF:
            length = data.index(b"\0", pos + fixed + extra) - (pos + fixed + extra)
        pos += (fixed + extra + length + 8) & ~7
        if pos > len(data):
            return None
    return pos


def _extensions(raw: bytes) -> list[tuple[bytes, bytes]] | None:
    found = []
    pos = 0
    while pos < len(raw):
        if pos + 8 > len(raw):
            return None
        sig, size = raw[pos : pos + 4], int.from_bytes(raw[pos + 4 : pos + 8], "big")
        if sig in _UNSUPPORTED or pos + 8 + size > len(raw):
            return None
        found.append((sig, raw[pos : pos + 8 + size]))
        pos += 8 + size
    return found
