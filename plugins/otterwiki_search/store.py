"""The vector store: chunk vectors and their metadata in a folder the user picks (on Lambda, on
EFS, shared by every instance), in immutable segments named by a small manifest.

Why segments: a sync step writes only the rows it embedded (a new segment, whose `drops` are the
tombstones of the rows it replaces) and a new manifest, so its cost does not grow with the store;
a process opening the store reads the manifest and each segment's page list, and maps the vectors
(`np.load(mmap_mode="r")`) instead of reading them. Compaction (compaction.py) merges segments
inside a sync step when that is worth it.

Every change happens under a cross-process file lock on the latest state read from disk.
Segment files are complete and fsynced before the manifest naming them is renamed into place
(atomic_write), so a reader or a crash sees the old state or the new one, never half of one.
Segments a manifest no longer names are *retired*: removed only RETIRE_AFTER seconds later,
because a process that read the previous manifest may still be opening them; on Linux an open or
mapped file stays readable after unlinking, but on NFS/EFS another client's read of an unlinked
file fails (ESTALE), hence the delay, longer than any request (Lambda's limit is 15 minutes).

Search answers the exact top k by inner product of unit vectors (cosine similarity) over the live
rows of each mapped segment. With FAISS, a large segment's 8-bit codes (codes.py, a quarter of the
bytes) are scanned first and their best candidates re-scored from the float32 vectors, widened
until a bound proves no other row can enter the top k; a small segment, or one without codes, gets
FAISS's knn_inner_product. Both take a bitmap of the live rows. Without FAISS (the Lambda package
leaves it out: it would take 66 of its 150 MB) numpy scans the float32 vectors with replaced rows
masked: it has no fast 8-bit product. None copies the vectors into memory.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from otterwiki_api.atomicfile import atomic_write
from otterwiki_api.errors import Busy
from otterwiki_api.repolock import FileLock

from . import codes as codes_file
from . import segments as seg
from .compaction import tail_to_merge
from .segments import Segment

if TYPE_CHECKING:  # numpy loads at the first search or sync, not with the wiki (~0.1 s)
    import numpy as np

FORMAT_VERSION = 2  # 1: one store.npz rewritten whole at every save (read, then migrated)
MANIFEST = "manifest.json"
OLD_FILE = "store.npz"
RETIRE_AFTER = 900.0  # seconds a segment stays on disk after no manifest names it
LOAD_ATTEMPTS = 5  # manifests re-read when a writer removed a segment between read and open


@functools.cache
def faiss_module() -> Any | None:
    """FAISS, imported at the first search rather than at start-up (it costs ~0.3 s); None when
    it is not installed."""
    try:
        import faiss
    except ImportError:
        return None
    # One query gains nothing from OpenMP threads; on a small VM they make p95 ten times worse
    # (benchmarks/bench_search.py: 0.34 ms vs 1.2 ms p50, 4.6 vs 24.6 ms p95 at 10,000 chunks).
    faiss.omp_set_num_threads(1)
    return faiss


def engine() -> str:
    """Which code answers searches: "faiss" (8-bit codes, then exact re-scoring, on large
    segments that have codes) or "numpy" (an exact float32 scan, see exact_top_k)."""
    return "numpy" if faiss_module() is None else "faiss"


def exact_top_k(
    vectors: np.ndarray, query: np.ndarray, k: int, dead: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, scores) of the k largest inner products among rows not in `dead`, best first:
    what FAISS's IndexFlatIP answers, with numpy alone (equal scores come in no set order)."""
    import numpy as np

    scores = vectors @ query
    if dead is not None:
        scores[dead] = -np.inf
    rows = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return rows, scores[rows]


def faiss_top_k(
    faiss: Any, vectors: np.ndarray, query: np.ndarray, k: int, live_bits: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The same with FAISS, on the mapped vectors (no copy), live rows chosen by a bitmap."""
    import numpy as np

    scores = np.empty((1, k), dtype="float32")
    rows = np.empty((1, k), dtype="int64")
    args = [faiss.swig_ptr(query), faiss.swig_ptr(vectors), vectors.shape[1], 1, len(vectors), k]
    args += [faiss.swig_ptr(scores), faiss.swig_ptr(rows)]
    if live_bits is None:
        faiss.knn_inner_product(*args)
    else:
        faiss.knn_inner_product(
            *args, faiss.IDSelectorBitmap(len(vectors), faiss.swig_ptr(live_bits))
        )
    found = rows[0] >= 0
    return rows[0][found], scores[0][found]


def empty_vectors(dimension: int) -> np.ndarray:
    """No vectors yet, of `dimension` (numpy is imported here, not with this module)."""
    import numpy as np

    return np.zeros((0, dimension), dtype="float32")


@dataclass
class _Layout:
    """Where the live rows are: row r of the state is live row r - starts[i] of segment i."""

    live: list[np.ndarray | None]  # live rows of each segment (None: all of them)
    dead: list[np.ndarray | None]  # replaced rows of each segment (None: none)
    starts: list[int]
    total: int
    bits: dict[int, np.ndarray] = field(default_factory=dict)  # FAISS bitmaps, made on demand


class StoreState:
    """What the store holds: identity (embedder, model, dimension, chunking: what the vectors
    mean), head (the git commit it reflects), job (unfinished (re)indexing work, see sync.py) and
    the chunks with their vectors. Rows are numbered across segments, live rows only; a state
    handed out by the store is never changed (update() yields a copy)."""

    def __init__(
        self,
        identity: dict[str, Any],
        head: str | None = None,
        job: dict[str, Any] | None = None,
        chunks: list[dict[str, Any]] | None = None,
        vectors: np.ndarray | None = None,
    ) -> None:
        self.identity = identity
        self.head = head
        self.job = job
        self._segments: list[Segment] = []
        self._killed: list[frozenset[str]] = []  # pages of each segment replaced since
        self._saved = 0  # the first _saved segments are the store's, on disk
        self._drops: set[str] = set()  # pages dropped since the last save
        self._layout: _Layout | None = None
        self._pages: frozenset[str] | None = None
        if chunks:
            self.add(chunks, empty_vectors(self.dimension) if vectors is None else vectors)

    @property
    def dimension(self) -> int:
        return int(self.identity["dimension"])

    @classmethod
    def _from_disk(cls, manifest: dict[str, Any], segments: list[Segment]) -> StoreState:
        state = cls(manifest["identity"], manifest.get("head"), manifest.get("job"))
        later: frozenset[str] = frozenset()
        killed = []
        for segment in reversed(segments):  # a segment's drops replace rows of earlier ones
            killed.append(later & segment.page_set)
            later |= segment.drops
        state._segments, state._killed = list(segments), killed[::-1]
        state._saved = len(segments)
        return state

    def copy(self) -> StoreState:
        """A private copy to change (segments are immutable and shared)."""
        other = StoreState(self.identity, self.head, self.job)
        other._segments, other._killed = list(self._segments), list(self._killed)
        other._saved, other._drops = self._saved, set(self._drops)
        other._layout, other._pages = self._layout, self._pages
        return other

    # -- reading ---------------------------------------------------------------------------------
    @property
    def chunks(self) -> Chunks:
        """The chunk dicts of the live rows (page, path, name, section, text…), by row."""
        return Chunks(self)

    @property
    def vectors(self) -> np.ndarray:
        """The live rows' vectors as one matrix (a copy: for tests and statistics)."""
        import numpy as np

        layout = self.layout()
        parts = [
            s.vectors if live is None else s.vectors[live]
            for s, live in zip(self._segments, layout.live, strict=True)
        ]
        return np.vstack([empty_vectors(self.dimension), *parts]).astype("float32")

    def __len__(self) -> int:
        return self.layout().total

    def pages(self) -> frozenset[str]:
        if self._pages is None:
            pages: set[str] = set()
            for segment, killed in zip(self._segments, self._killed, strict=True):
                pages |= segment.page_set - killed if killed else segment.page_set
            self._pages = frozenset(pages)
        return self._pages

    def layout(self) -> _Layout:
        if self._layout is None:
            import numpy as np

            live: list[np.ndarray | None] = []
            dead: list[np.ndarray | None] = []
            starts, total = [], 0
            for segment, killed in zip(self._segments, self._killed, strict=True):
                gone = [r for p in killed for r in segment.page_rows[p]]
                mask = None
                if gone:
                    mask = np.zeros(len(segment), dtype=bool)
                    mask[gone] = True
                dead.append(mask)
                live.append(None if mask is None else np.flatnonzero(~mask))
                starts.append(total)
                total += len(segment) - len(gone)
            self._layout = _Layout(live, dead, starts, total)
        return self._layout

    def _where(self, row: int) -> tuple[Segment, int]:
        layout = self.layout()
        if not -layout.total <= row < layout.total:
            raise IndexError("chunk row out of range")
        row %= layout.total
        # the last segment starting at or before the row: an empty one shares its start with
        # the next, so it is never the last such (nor one at the end: its start is the total)
        i = bisect.bisect_right(layout.starts, row) - 1
        local = row - layout.starts[i]
        live = layout.live[i]
        return self._segments[i], int(local if live is None else live[local])

    # -- changing --------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._layout = self._pages = None

    def drop_pages(self, pages: set[str]) -> None:
        """Replace every row of `pages` (written as tombstones with the next segment)."""
        if not pages:
            return
        changed = False
        for i, segment in enumerate(self._segments):
            hit = (segment.page_set & pages) - self._killed[i]
            if hit:
                self._killed[i] = self._killed[i] | hit
                changed = True
        self._drops |= pages
        if changed:
            self._changed()

    def add(self, chunks: list[dict[str, Any]], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        if len(chunks):
            if vectors.shape[1] != self.dimension:
                raise ValueError(f"vectors of {vectors.shape[1]} dimensions, not {self.dimension}")
            self._segments.append(seg.in_memory(chunks, vectors.astype("float32")))
            self._killed.append(frozenset())
            self._changed()

    # -- searching -------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row, cosine similarity) of the k nearest chunks, best first."""
        import numpy as np

        layout = self.layout()
        if not layout.total or k <= 0:
            return []
        k = min(k, layout.total)
        query = np.ascontiguousarray(vector.reshape(-1), dtype="float32")
        faiss = faiss_module()
        found_rows, found_scores = [], []
        for i, segment in enumerate(self._segments):
            live = layout.live[i]
            count = len(segment) if live is None else len(live)
            if not count:
                continue
            kk = min(k, count)
            rows, scores = self._segment_top_k(faiss, i, query, kk)
            found_rows.append(
                layout.starts[i] + (rows if live is None else np.searchsorted(live, rows))
            )
            found_scores.append(scores)
        rows, scores = np.concatenate(found_rows), np.concatenate(found_scores)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(rows[o]), float(scores[o])) for o in order]

    def _segment_top_k(
        self, faiss: Any, i: int, query: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of segment i's k best live rows, by the engine that fits it."""
        segment = self._segments[i]
        if faiss is None:
            return exact_top_k(segment.vectors, query, k, self.layout().dead[i])
        codes = segment.codes(faiss) if len(segment) >= codes_file.MIN_ROWS else None
        if codes is None:
            return faiss_top_k(faiss, segment.vectors, query, k, self._bits(i))
        rows, scores, _ = codes_file.top_k(faiss, codes, segment.vectors, query, k, self._bits(i))
        return rows, scores

    def _bits(self, i: int) -> np.ndarray | None:
        """The live rows of segment i as FAISS's IDSelectorBitmap reads them."""
        import numpy as np

        layout = self.layout()
        dead = layout.dead[i]
        if dead is None:
            return None
        if i not in layout.bits:
            layout.bits[i] = np.packbits(~dead, bitorder="little")
        return layout.bits[i]


class Chunks(Sequence[dict[str, Any]]):
    """The chunk dicts of a state's live rows: read from disk one at a time when asked."""

    def __init__(self, state: StoreState) -> None:
        self._state = state

    def __len__(self) -> int:
        return len(self._state)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        segment, row = self._state._where(index)
        return segment.chunk(row)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        layout = self._state.layout()
        for segment, live in zip(self._state._segments, layout.live, strict=True):
            if len(segment) and (live is None or len(live)):
                chunks = segment.all_chunks()
                yield from chunks if live is None else (chunks[r] for r in live)

    def __add__(self, other: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*self, *other]


class VectorStore:
    def __init__(self, folder: str, lock_timeout: float = 60.0) -> None:
        self.folder = folder
        self.path = os.path.join(folder, MANIFEST)
        self.lock = FileLock(os.path.join(folder, "store.lock"), timeout=lock_timeout)
        self._cached: tuple[tuple[int, int, int], StoreState] | None = None
        self._cache_lock = threading.Lock()
        self._open: dict[str, Segment] = {}  # segments opened by this process, by name

    def size(self) -> int:
        """Bytes on disk (manifest and segments)."""
        names = os.listdir(self.folder) if os.path.isdir(self.folder) else []
        return sum(
            os.path.getsize(os.path.join(self.folder, n))
            for n in names
            if n == MANIFEST or n.startswith("seg-")
        )

    # -- reading ---------------------------------------------------------------------------------
    def read(self) -> StoreState | None:
        """The latest saved state (cached until the manifest changes), None if there is none."""
        if not os.path.exists(self.path) and os.path.exists(os.path.join(self.folder, OLD_FILE)):
            return self._migrate()
        with self._cache_lock:
            try:
                signature, manifest = self._manifest()
            except FileNotFoundError:
                return None
            if self._cached and self._cached[0] == signature:
                return self._cached[1]
            state = self._load(manifest)
            self._cached = (signature, state)
            return state

    def _manifest(self) -> tuple[tuple[int, int, int], dict[str, Any]]:
        with open(self.path, "rb") as f:
            st = os.fstat(f.fileno())
            signature = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._cached and self._cached[0] == signature:
                return signature, {}
            manifest = json.loads(f.read())
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown vector store format {manifest.get('format')!r}")
        return signature, manifest

    def _load(self, manifest: dict[str, Any]) -> StoreState:
        """The state a manifest names; read again when a writer removed one of its segments
        between reading the manifest and opening them."""
        for attempt in range(LOAD_ATTEMPTS):
            try:
                segments = [self._segment(name) for name in manifest["segments"]]
                break
            except FileNotFoundError:
                if attempt == LOAD_ATTEMPTS - 1:
                    raise
                manifest = self._manifest()[1] or manifest
        dimension = int(manifest["identity"]["dimension"])
        if any(s.vectors.shape[1] != dimension for s in segments if len(s)):
            raise ValueError("vector store segment of another dimension")
        self._open = {s.name: s for s in segments if s.name}
        return StoreState._from_disk(manifest, segments)

    def _segment(self, name: str) -> Segment:
        return self._open.get(name) or seg.open_segment(self.folder, name)

    def _migrate(self) -> StoreState | None:
        """A store of format 1 (one store.npz): read whole once and written as segments."""
        try:
            with self.lock.hold(1.0):
                if not os.path.exists(self.path):
                    state = read_format_1(os.path.join(self.folder, OLD_FILE))
                    self.save(state)
        except FileNotFoundError:
            pass  # another process migrated it meanwhile
        except (Busy, OSError):  # another writer, or a folder this process cannot write
            return read_format_1(os.path.join(self.folder, OLD_FILE))
        return self.read()

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def update(self, timeout: float | None = None) -> Iterator[StoreState | None]:
        """Hold the lock and yield the latest state (None if none); `save(state)` inside persists.
        Raises otterwiki_api.errors.Busy when another process holds the lock past `timeout`."""
        os.makedirs(self.folder, exist_ok=True)
        with self.lock.hold(timeout):
            try:
                state = self.read()
            except (ValueError, KeyError, OSError, EOFError):
                state = None  # unreadable: treated as absent and rebuilt
            # a private copy: searches in other threads keep using the cached one untouched
            yield None if state is None else state.copy()

    def save(self, state: StoreState) -> None:
        """Persist `state`; call only inside `update()`. Writes the rows added since the state
        was read (one segment, with the pages it replaces) and a new manifest, and merges
        segments when compaction.py says so; a state not read from this store's latest
        manifest (a new one, a rebuild) is written whole."""
        with self.lock.hold():
            before = self._manifest_or_nothing()
            names = [s.name for s in state._segments[: state._saved]]
            continues = before.get("format") == FORMAT_VERSION and names == before.get("segments")
            writer = _Writer(self.folder, int(before.get("serial", 0)))
            writer.append(state, keep=state._saved if continues else 0)
            writer.compact(state)
            now = time.time()
            kept = {s.name for s in state._segments}
            retired = [
                (n, t)
                for n, t in before.get("retired", [])
                + [(n, now) for n in before.get("segments", [])]
                if n not in kept and now - t < RETIRE_AFTER
            ]
            manifest = {
                "format": FORMAT_VERSION,
                "identity": state.identity,
                "head": state.head,
                "job": state.job,
                "segments": [s.name for s in state._segments],
                "retired": retired,
                "serial": writer.serial,
            }
            atomic_write(self.path, json.dumps(manifest, ensure_ascii=False).encode(), 0o644)
            self._remove_unnamed(kept | {n for n, _ in retired})
            with self._cache_lock:
                st = os.stat(self.path)
                self._open = {s.name: s for s in state._segments if s.name}
                self._cached = ((st.st_ino, st.st_mtime_ns, st.st_size), state.copy())

    def _manifest_or_nothing(self) -> dict[str, Any]:
        """The manifest on disk as a writer starts from it; {} when missing or unreadable."""
        try:
            with open(self.path, "rb") as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            return {}

    def _remove_unnamed(self, named: set[str]) -> None:
        """Remove segments no manifest names any more (past their retirement), those of writers
        that were killed before their manifest, and a migrated format-1 file."""
        for entry in os.listdir(self.folder):
            if entry == OLD_FILE or (
                entry.startswith("seg-") and entry.split(".", 1)[0] not in named
            ):
                try:
                    os.remove(os.path.join(self.folder, entry))
                except FileNotFoundError:
                    pass


class _Writer:
    """Writes a save's segments, named by a serial number kept in the manifest."""

    def __init__(self, folder: str, serial: int) -> None:
        self.folder = folder
        self.serial = serial

    def _name(self) -> str:
        self.serial += 1
        return f"seg-{self.serial:08d}-{secrets.token_hex(4)}"

    def _write(self, state: StoreState, first: int, drops: set[str] | frozenset[str]) -> Segment:
        """One segment of the live rows of state's segments from `first` on."""
        import numpy as np

        layout = state.layout()
        vectors, pages, lines = [empty_vectors(state.dimension)], [], []
        for i in range(first, len(state._segments)):
            segment, live = state._segments[i], layout.live[i]
            rows = range(len(segment)) if live is None else live.tolist()
            if not len(rows):
                continue
            vectors.append(segment.vectors if live is None else segment.vectors[live])
            pages += segment.pages if live is None else [segment.pages[r] for r in rows]
            lines += segment.raw_lines(rows)
        return seg.write_segment(self.folder, self._name(), np.vstack(vectors), pages, lines, drops)

    def append(self, state: StoreState, keep: int) -> None:
        """Write what the state holds beyond its first `keep` segments (the manifest's) as one
        segment, carrying the pages dropped since (nothing to drop in a store written whole)."""
        drops = state._drops if keep else set()
        if keep == len(state._segments) and not drops:
            state._saved = keep
            return
        written = self._write(state, keep, drops)
        state._segments[keep:] = [written]
        state._killed[keep:] = [frozenset()]
        state._saved, state._drops = len(state._segments), set()
        state._changed()

    def compact(self, state: StoreState) -> None:
        layout = state.layout()
        rows = [len(s) for s in state._segments]
        live = [
            rows[i] if layout.live[i] is None else len(layout.live[i])  # type: ignore[arg-type]
            for i in range(len(rows))
        ]
        start = tail_to_merge(rows, live)
        if start is None:
            return
        drops = frozenset().union(*(s.drops for s in state._segments[start:])) if start else set()
        merged = self._write(state, start, drops)
        state._segments[start:] = [merged]
        state._killed[start:] = [frozenset()]
        state._saved = len(state._segments)
        state._changed()


def read_format_1(path: str) -> StoreState:
    """A store saved by format 1: one .npz of the vectors and a JSON of everything else."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        vectors = np.array(data["vectors"], dtype="float32")
    if meta.get("format") != 1:
        raise ValueError(f"unknown vector store format {meta.get('format')!r}")
    return StoreState(meta["identity"], meta.get("head"), meta.get("job"), meta["chunks"], vectors)
