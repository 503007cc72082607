"""The vector store: chunk vectors and their metadata in one file in a folder the user picks
(on Lambda, on EFS, shared by every instance).

Every change happens under a cross-process file lock on the latest copy read from disk, and is
written to a temporary file that is renamed over the old one, so processes sharing the folder
never see half a store nor lose each other's updates. Search is the exact inner product of unit
vectors (cosine similarity): FAISS's IndexFlatIP when FAISS is installed, else the same ranking
computed with numpy (the Lambda package leaves FAISS out: it would take 66 of its 150 MB).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otterwiki_api.atomicfile import atomic_write
from otterwiki_api.repolock import FileLock

if TYPE_CHECKING:  # numpy loads at the first search or sync, not with the wiki (~0.1 s)
    import numpy as np

FORMAT_VERSION = 1


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
    """Which code answers searches: "faiss" or "numpy" (see exact_top_k)."""
    return "numpy" if faiss_module() is None else "faiss"


def exact_top_k(vectors: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(row, score) of the k largest inner products, best first: what FAISS's IndexFlatIP
    answers, with numpy alone (equal scores come in no set order, as from FAISS)."""
    import numpy as np

    scores = vectors @ query
    rows = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    return [(int(r), float(scores[r])) for r in rows]


def empty_vectors(dimension: int) -> np.ndarray:
    """No vectors yet, of `dimension` (numpy is imported here, not with this module)."""
    import numpy as np

    return np.zeros((0, dimension), dtype="float32")


@dataclass
class StoreState:
    identity: dict[str, Any]  # embedder, model, dimension, chunking: what the vectors mean
    head: str | None = None  # the git commit the store reflects
    job: dict[str, Any] | None = None  # unfinished (re)indexing work, see sync.py
    chunks: list[dict[str, Any]] = field(default_factory=list)  # page, path, name, section, text…
    vectors: np.ndarray = field(default_factory=lambda: empty_vectors(0))
    _faiss: Any = None  # the FAISS index of `vectors`, built at the first search
    _pages: frozenset[str] | None = None  # the pages of `chunks`, built at the first ask

    def __post_init__(self) -> None:
        if self.vectors.shape[1] != self.identity["dimension"]:
            self.vectors = empty_vectors(int(self.identity["dimension"]))

    def pages(self) -> frozenset[str]:
        if self._pages is None:
            self._pages = frozenset(c["page"] for c in self.chunks)
        return self._pages

    def _chunks_changed(self) -> None:
        self._faiss = self._pages = None

    def drop_pages(self, pages: set[str]) -> None:
        keep = [i for i, c in enumerate(self.chunks) if c["page"] not in pages]
        if len(keep) != len(self.chunks):
            self.chunks = [self.chunks[i] for i in keep]
            self.vectors = self.vectors[keep]
            self._chunks_changed()

    def add(self, chunks: list[dict[str, Any]], vectors: np.ndarray) -> None:
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        if len(chunks):
            import numpy as np

            self.chunks = self.chunks + chunks
            self.vectors = np.vstack([self.vectors, vectors.astype("float32")])
            self._chunks_changed()

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row, cosine similarity) of the k nearest chunks, best first."""
        if not self.chunks or k <= 0:
            return []
        k = min(k, len(self.chunks))
        query = vector.reshape(1, -1).astype("float32")
        faiss = faiss_module()
        if faiss is None:
            return exact_top_k(self.vectors, query[0], k)
        if self._faiss is None:
            self._faiss = faiss.IndexFlatIP(self.vectors.shape[1])
            self._faiss.add(self.vectors)
        scores, rows = self._faiss.search(query, k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]


class VectorStore:
    def __init__(self, folder: str, lock_timeout: float = 60.0) -> None:
        self.folder = folder
        self.path = os.path.join(folder, "store.npz")
        self.lock = FileLock(os.path.join(folder, "store.lock"), timeout=lock_timeout)
        self._cached: tuple[tuple[int, int, int], StoreState] | None = None
        self._cache_lock = threading.Lock()

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> StoreState | None:
        """The latest saved state (cached until the file changes), None if there is none yet."""
        with self._cache_lock:
            signature = self._signature()
            if signature is None:
                return None
            if self._cached and self._cached[0] == signature:
                return self._cached[1]
            state = self._load()
            self._cached = (signature, state)
            return state

    def _load(self) -> StoreState:
        import numpy as np

        with np.load(self.path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            vectors = np.array(data["vectors"], dtype="float32")
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown vector store format {meta.get('format')!r}")
        return StoreState(
            meta["identity"], meta.get("head"), meta.get("job"), meta["chunks"], vectors
        )

    def _save(self, state: StoreState) -> None:
        import numpy as np

        meta = {
            "format": FORMAT_VERSION,
            "identity": state.identity,
            "head": state.head,
            "job": state.job,
            "chunks": state.chunks,
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            vectors=state.vectors,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        )
        atomic_write(self.path, buffer.getvalue(), 0o644)

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
            yield None if state is None else dataclasses.replace(state, _faiss=None)

    def save(self, state: StoreState) -> None:
        """Persist `state`; call only inside `update()`."""
        self._save(state)
        with self._cache_lock:
            signature = self._signature()
            if signature is not None:
                self._cached = (signature, state)
