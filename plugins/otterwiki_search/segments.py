"""Immutable segments of the vector store: rows of (chunk, unit vector) written once and never
changed, so a sync step writes only its own rows and a process opens a store without reading it.

A segment on disk is four files named after it:
- `NAME.npy`: the float32 vectors, opened with `np.load(mmap_mode="r")`: pages of the file are read
  by the searches that touch them, never at open;
- `NAME.sq8`: the same vectors as 8-bit codes (codes.py), which FAISS scans first; a segment
  written before they existed has none and is scanned in float32;
- `NAME.chunks`: one JSON chunk dict per line, read one line at a time (by offset) when a search
  answers with that row;
- `NAME.meta.json`: the page of each row, the line offsets, and `drops`: pages whose rows in every
  *earlier* segment this segment replaces (the tombstones of a sync step).
The segment is complete before the store's manifest names it; a crash leaves unnamed files, which
the next writer removes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import codes as codes_file

if TYPE_CHECKING:
    import numpy as np

SUFFIXES = (".npy", ".chunks", ".meta.json")  # and codes_file.SUFFIX, optional


class Segment:
    """Rows of one sync step (or of a compaction): vectors, chunk dicts, their pages, and the
    pages this segment drops from earlier ones. `name` is None until it is written."""

    def __init__(
        self,
        vectors: np.ndarray,
        pages: list[str],
        drops: frozenset[str],
        chunks: list[dict[str, Any]] | None = None,
        lines: _Lines | None = None,
        name: str | None = None,
        codes_path: str | None = None,
    ) -> None:
        self.vectors = vectors
        self.pages = pages
        self.drops = drops
        self.name = name
        self._chunks = chunks  # in memory (a new segment) ...
        self._lines = lines  # ... or read line by line from its file
        self._codes_path = codes_path
        self._codes: codes_file.Codes | None = None

    def __len__(self) -> int:
        return len(self.pages)

    @cached_property
    def page_set(self) -> frozenset[str]:
        return frozenset(self.pages)

    @cached_property
    def page_rows(self) -> dict[str, list[int]]:
        """Rows of each page: what a tombstone (a dropped page) hides."""
        rows: dict[str, list[int]] = {}
        for row, page in enumerate(self.pages):
            rows.setdefault(page, []).append(row)
        return rows

    def codes(self, faiss: Any) -> codes_file.Codes | None:
        """The 8-bit codes, mapped at the first search that wants them; None for a segment not
        written yet or written without them."""
        if self._codes is None and self._codes_path is not None:
            self._codes = codes_file.load(faiss, self._codes_path)
            if self._codes is None:
                self._codes_path = None  # unreadable: not tried again
        return self._codes

    def chunk(self, row: int) -> dict[str, Any]:
        if self._chunks is not None:
            return self._chunks[row]
        assert self._lines is not None
        return json.loads(self._lines.line(row))

    def raw_lines(self, rows: Iterable[int]) -> list[bytes]:
        """The chunks of `rows` as JSON lines, undecoded (what a compaction copies)."""
        if self._chunks is not None:
            return [_line(self._chunks[r]) for r in rows]
        assert self._lines is not None
        return self._lines.lines(rows)

    def all_chunks(self) -> list[dict[str, Any]]:
        """Every chunk dict, decoded afresh from disk (a whole-store walk: tests and statistics,
        never a search), so a process does not keep them all."""
        if self._chunks is not None:
            return self._chunks
        return [json.loads(b) for b in self.raw_lines(range(len(self)))]


class _Lines:
    """Lines of a chunk file read by offset. The file stays open, so a segment a later compaction
    retires is still readable by a process that opened it before."""

    def __init__(self, path: str, offsets: list[int]) -> None:
        self.offsets = offsets
        self._file = open(path, "rb")  # noqa: SIM115 - open as long as the segment is

    # pread, never seek + read: a forked worker shares the file's offset with its parent
    def line(self, row: int) -> bytes:
        start, end = self.offsets[row], self.offsets[row + 1]
        return os.pread(self._file.fileno(), end - start, start)

    def lines(self, rows: Iterable[int]) -> list[bytes]:
        data = os.pread(self._file.fileno(), self.offsets[-1], 0)
        return [data[self.offsets[r] : self.offsets[r + 1]] for r in rows]

    def __del__(self) -> None:
        if hasattr(self, "_file"):
            self._file.close()


def _line(chunk: dict[str, Any]) -> bytes:
    return json.dumps(chunk, ensure_ascii=False).encode("utf-8") + b"\n"


def paths(folder: str, name: str) -> list[str]:
    return [os.path.join(folder, name + suffix) for suffix in SUFFIXES]


def open_segment(folder: str, name: str) -> Segment:
    """A segment written before; raises FileNotFoundError when a writer has removed it."""
    import numpy as np

    vectors_path, chunks_path, meta_path = paths(folder, name)
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    lines = _Lines(chunks_path, meta["offsets"])
    vectors = np.load(vectors_path, mmap_mode="r") if meta["pages"] else None
    if vectors is None:  # numpy cannot map an empty file
        vectors = np.zeros((0, int(meta["dimension"])), dtype="float32")
    codes_path = os.path.join(folder, name + codes_file.SUFFIX)
    return Segment(
        vectors,
        meta["pages"],
        frozenset(meta["drops"]),
        lines=lines,
        name=name,
        codes_path=codes_path if os.path.exists(codes_path) else None,
    )


def write_segment(
    folder: str,
    name: str,
    vectors: np.ndarray,
    pages: Sequence[str],
    lines: Sequence[bytes],
    drops: Iterable[str],
) -> Segment:
    """Write and fsync a segment's files (the manifest that names it comes after), and return
    it opened from disk."""
    import numpy as np

    vectors_path, chunks_path, meta_path = paths(folder, name)
    vectors = np.ascontiguousarray(vectors, dtype="float32")
    with open(vectors_path, "wb") as f:
        np.save(f, vectors)
        _sync(f)
    codes_file.write(os.path.join(folder, name + codes_file.SUFFIX), vectors)
    offsets = [0]
    with open(chunks_path, "wb") as f:
        for line in lines:
            f.write(line)
            offsets.append(offsets[-1] + len(line))
        _sync(f)
    meta = {
        "rows": len(pages),
        "dimension": int(vectors.shape[1]),
        "pages": list(pages),
        "drops": sorted(drops),
        "offsets": offsets,
    }
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)
        _sync(f)
    return open_segment(folder, name)


def in_memory(chunks: list[dict[str, Any]], vectors: np.ndarray) -> Segment:
    """A segment of rows just embedded, not yet written."""
    import numpy as np

    rows = np.ascontiguousarray(vectors, dtype="float32")
    return Segment(rows, [c["page"] for c in chunks], frozenset(), chunks=list(chunks))


def encode(chunks: Iterable[dict[str, Any]]) -> list[bytes]:
    return [_line(c) for c in chunks]


def _sync(f: Any) -> None:
    f.flush()
    os.fsync(f.fileno())
