"""The vector store at 100,000 chunks (bench_search.py, section 5): what a sync step, a query and
a fresh process cost when the store is large (issue 13: <= 100 ms, <= 20 ms, <= 200 ms p50).

Store figures, not model figures: the vectors are random unit vectors and the embedder is a hash
(embedding costs ~0; the local model adds its own time, section 4), so what is timed is git, the
chunking, the store's writes and reads. Each dimension gets a one-page git repository synced by
VectorSync, then its store padded with generated chunks of pages outside git.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from bench_api import git, percentile, progress
from otterwiki_api.gitcli import Git
from otterwiki_search import store as store_module
from otterwiki_search.searching import SemanticSearch
from otterwiki_search.store import VectorStore, engine
from otterwiki_search.sync import ChunkingRules, VectorSync

SYNC_TARGET_MS, QUERY_TARGET_MS, OPEN_TARGET_MS = 100.0, 20.0, 200.0
PAGE = "notes/changing page.md"


class HashEmbedder:
    """Deterministic unit vectors from a text's hash; a query returns the next random vector."""

    kind, model = "bench", "hash"

    def __init__(self, dimension: int, queries: np.ndarray) -> None:
        self.dimension = dimension
        self.queries = queries
        self.calls = 0

    def fits(self, text: str) -> bool:
        return True

    def embed(self, texts: list[str]) -> np.ndarray:
        if texts == ["query"]:
            self.calls += 1
            return self.queries[self.calls % len(self.queries)].reshape(1, -1)
        rows = [_hashed(t, self.dimension) for t in texts]
        return np.asarray(rows, dtype="float32").reshape(len(texts), self.dimension)


def _hashed(text: str, dimension: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return unit_vectors(np.random.default_rng(seed), 1, dimension)[0]


def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim), dtype="float32")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def filler(n: int, texts: list[str]) -> list[dict[str, Any]]:
    """n chunk dicts of 5 chunks per (non-existent) page, shaped as sync.py makes them."""
    return [
        {"page": f"filler/page {i // 5:05d}.md", "path": f"filler/page {i // 5:05d}",
         "name": f"Page {i // 5:05d}", "section": f"Section {i % 5}",
         "section_path": f"Page {i // 5:05d} > Section {i % 5}", "chunk_index": i % 5,
         "total_chunks": 5, "page_word_count": 700, "text": texts[i % len(texts)]}
        for i in range(n)
    ]  # fmt: skip


@contextmanager
def without_faiss() -> Iterator[None]:
    """The store as it runs where FAISS is not installed (the Lambda package)."""
    saved = store_module.faiss_module
    store_module.faiss_module = lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        store_module.faiss_module = saved


def io_field(name: str) -> int:
    with open("/proc/self/io", encoding="ascii") as f:
        return int(next(line for line in f if line.startswith(name + ":")).split()[1])


def ms(samples: list[float]) -> str:
    return f"p50 {percentile(samples, 50):8.2f}  p95 {percentile(samples, 95):8.2f}"


OPEN = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from otterwiki_search.store import VectorStore, faiss_module
faiss_module()
def rchar():
    with open("/proc/self/io") as f:
        return int(next(l for l in f if l.startswith("rchar:")).split()[1])
read0, t1 = rchar(), time.perf_counter()
state = VectorStore(sys.argv[1]).read()
size = (len(state.chunks), len(state.pages()))
t2 = time.perf_counter()
rng = np.random.default_rng(int(sys.argv[2]))
query = rng.standard_normal(state.identity["dimension"]).astype("float32")
row, _ = state.search(query / np.linalg.norm(query), 5)[0]
state.chunks[row]["text"]
t3 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "open": t2 - t1, "query": t3 - t2, "read": rchar() - read0}))
"""


def fresh_opens(folder: str, times: int) -> list[dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", OPEN, folder, str(i)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
        )  # fmt: skip
        for i in range(times)
    ]


def measure(root: str, n: int, dim: int, texts: list[str], repeat: int, queries: int) -> list[str]:
    """All figures at n chunks of `dim` dimensions."""
    rng = np.random.default_rng(dim)
    repo = os.path.join(root, f"scale{dim}", "repo")
    os.makedirs(os.path.join(repo, os.path.dirname(PAGE)))
    git(repo, "init", "-q")
    Path(repo, PAGE).write_text("# Changing page\n\n" + texts[0] + "\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    embedder = HashEmbedder(dim, unit_vectors(rng, queries, dim))
    store = VectorStore(os.path.join(root, f"scale{dim}", "vectors"))
    sync = VectorSync(Git(repo), store, embedder, ChunkingRules(1000, 150), lambda: False)
    search = SemanticSearch(sync, store, embedder, lambda q, k: {"results": []}, 30.0)
    sync.step(budget=60)
    started = time.perf_counter()
    with store.update() as state:
        assert state is not None
        state.add(filler(n, texts), unit_vectors(rng, n, dim))
        store.save(state)
    build_s = time.perf_counter() - started
    # (the getattr fallbacks let this measure format 1, store.npz, for a before/after)
    size_mb = (store.size() if hasattr(store, "size") else os.path.getsize(store.path)) / 1e6

    sync_ms, written = [], []
    for i in range(repeat):
        path = Path(repo, PAGE)
        path.write_text(path.read_text(encoding="utf-8") + f"\nEdit {i}: {texts[i + 1][:300]}\n")
        git(repo, "commit", "-q", "-a", "-m", f"edit {i}")
        before, started = io_field("wchar"), time.perf_counter()
        status = sync.step(budget=30)
        sync_ms.append((time.perf_counter() - started) * 1000)
        written.append(io_field("wchar") - before)
        assert status["status"] == "complete", status
    progress(f"  {dim}-d: {repeat} syncs, p50 {percentile(sync_ms, 50):.1f} ms")

    current = store.read()
    assert current is not None
    current.search(embedder.queries[0], 40)  # the first search maps the pages in

    def timed(call: Any) -> list[float]:
        samples = []
        for i in range(queries):
            started = time.perf_counter()
            call(i)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    raw = timed(lambda i: current.search(embedder.queries[i], 40))
    semantic = timed(lambda i: search.semantic("query", 5))
    with without_faiss():  # as the Lambda package runs it
        raw_numpy = timed(lambda i: current.search(embedder.queries[i], 40))
        semantic_numpy = timed(lambda i: search.semantic("query", 5))
    opens = fresh_opens(store.folder, 7)
    open_ms = [o["open"] * 1000 for o in opens]
    first_ms = [o["query"] * 1000 for o in opens]
    sync_p50, query_p50 = percentile(sync_ms, 50), percentile(semantic, 50)
    open_p50 = percentile(open_ms, 50)
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    segments = len(getattr(current, "_segments", [None]))
    return [
        f"  {dim} dimensions: {len(current.chunks)} chunks, {size_mb:.0f} MB on disk in "
        f"{segments} segment(s); padding them in one save took {build_s:.1f} s",
        f"    sync one changed page (VectorSync.step)   {ms(sync_ms)}  (n={repeat}; "
        f"{percentile(written, 50) / 1e3:.0f} KB written p50, {max(written) / 1e6:.1f} MB max)",
        f"    {f'StoreState.search k=40 ({engine()})':<43}{ms(raw)}  (n={queries})",
        f"    SemanticSearch.semantic n=5 (no embedding) {ms(semantic)}",
        f"    {'the same without FAISS: search k=40':<43}{ms(raw_numpy)}",
        f"    {'                        semantic n=5':<43}{ms(semantic_numpy)}",
        f"    fresh process: VectorStore.read + pages    {ms(open_ms)}  (n={len(opens)}; "
        f"read {percentile([o['read'] for o in opens], 50) / 1e6:.1f} MB; imports "
        f"{percentile([o['imports'] * 1000 for o in opens], 50):.0f} ms before it)",
        f"    fresh process: its first query and chunk   {ms(first_ms)}",
        f"    {verdict(sync_p50 <= SYNC_TARGET_MS)}  sync p50 {sync_p50:.1f} ms <= "
        f"{SYNC_TARGET_MS:g};  {verdict(query_p50 <= QUERY_TARGET_MS)}  query p50 "
        f"{query_p50:.1f} ms <= {QUERY_TARGET_MS:g} ({engine()}; numpy "
        f"{percentile(semantic_numpy, 50):.1f});  {verdict(open_p50 <= OPEN_TARGET_MS)}  "
        f"open p50 {open_p50:.1f} ms <= {OPEN_TARGET_MS:g}",
    ]


def section_scale(
    root: str, n: int, dims: list[int], texts: list[str], repeat: int, queries: int
) -> list[str]:
    out = [
        "",
        f"5. THE STORE AT {n} CHUNKS (random unit vectors, {n // 5} pages of 5 chunks, embedding "
        "by hash so ~0 ms; files in the page cache, as on a warm host), ms",
    ]
    for dim in dims:
        progress(f"store at {n} chunks of {dim} dimensions ...")
        out += measure(root, n, dim, texts, repeat, queries)
    return out
