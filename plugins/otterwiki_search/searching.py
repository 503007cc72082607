"""Semantic search (one entry per page, best chunks attached) and hybrid search (full text and
vectors fused by reciprocal-rank fusion)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from otterwiki_api.errors import Busy, Invalid, Starting, Unavailable, bounded_int
from otterwiki_api.page_index import query_words
from otterwiki_api.plaintext import plain_text
from otterwiki_api.processthread import ProcessThread

from .embedding import Embedder, EmbedderUnavailable, EmbeddingFailed

if TYPE_CHECKING:
    from .store import StoreState, VectorStore
    from .sync import VectorSync

log = logging.getLogger(__name__)

RRF_K = 60
MOST_WORDS = range(4, 9)  # query lengths (content words) where a page may miss one of them
MAX_RESULTS = 50
MAX_CHUNKS_PER_PAGE = 5  # the older plugin's cap
SNIPPET_CHARS = 200
WARM_UP_BUSY_LIMIT = 120  # one-second waits for the index lock before warm-up leaves it


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def _at_most(value: object, name: str, default: int, high: int) -> int:
    """An integer of at least 1; a larger one than `high` is lowered to it."""
    if isinstance(value, int) and not isinstance(value, bool) and value > high:
        return high
    return bounded_int(value, name, default, 1, high)


def _nearest(
    state: StoreState, vector: Any, n: int, per_page: int, by_page: bool
) -> list[tuple[dict[str, Any], float]]:
    """The best chunks, at most `per_page` of a page, until there are `n` of them (or chunks of
    `n` pages with `by_page`); asks the store for more neighbours until that is reached."""
    k = n * per_page * 4
    while True:
        taken: dict[str, int] = {}
        hits: list[tuple[dict[str, Any], float]] = []
        for row, score in state.search(vector, k):
            chunk = state.chunks[row]
            page = chunk["page"]
            full = by_page and page not in taken and len(taken) == n
            if full or taken.get(page, 0) >= per_page:
                continue
            taken[page] = taken.get(page, 0) + 1
            hits.append((chunk, score))
            if not by_page and len(hits) == n:
                return hits
        if k >= len(state.chunks) or (by_page and len(taken) == n):
            return hits
        k *= 4


def _entry(chunk: dict[str, Any], score: float) -> dict[str, Any]:
    """One chunk as otterwiki-semantic-search answers it, plus our `score`."""
    return {
        "name": chunk["name"],
        "path": chunk["path"],
        "snippet": _snippet(plain_text(chunk["text"])),
        "distance": round(1.0 - score, 6),
        "score": round(score, 6),
        "text": chunk["text"],
        "section": chunk["section"],
        "section_path": chunk.get("section_path"),
        "chunk_index": chunk.get("chunk_index"),
        "total_chunks": chunk.get("total_chunks"),
        "page_word_count": chunk.get("page_word_count"),
    }


def _by_page(hits: list[tuple[dict[str, Any], float]], per_page: int) -> list[dict[str, Any]]:
    """One entry per page in the order of its best chunk, with its best chunks."""
    pages: dict[str, dict[str, Any]] = {}
    for chunk, score in hits:
        entry = _entry(chunk, score)
        page = pages.setdefault(
            chunk["page"],
            {
                "name": entry["name"],
                "path": entry["path"],
                "score": entry["score"],
                "distance": entry["distance"],
                "snippet": entry["snippet"],
                "section": entry["section"],
                "chunks": [],
            },
        )
        if len(page["chunks"]) < per_page:
            page["chunks"].append(
                {k: entry[k] for k in ("text", "section", "section_path", "chunk_index", "score")}
            )
    return list(pages.values())


class SemanticSearch:
    def __init__(
        self,
        sync: VectorSync,
        store: VectorStore,
        embedder: Embedder,
        fulltext: Callable[[str, int], dict[str, Any]],
        sync_budget: float,
    ) -> None:
        self.sync = sync
        self.store = store
        self.embedder = embedder
        self.fulltext = fulltext
        self.sync_budget = sync_budget
        self._loaded = threading.Event()  # the embedder has answered once in this process
        self._warming = ProcessThread(self._warm_up, "wikibot-search-warm-up")

    def start_warm_up(self) -> bool:
        """Load the model and bring the index up to HEAD in a background thread, once per
        process, so no request pays for either (12-13 s on a new wiki). False when already
        started here."""
        return self._warming.start()

    def _warm_up(self) -> None:
        started = time.monotonic()
        try:
            self.embedder.embed(["warm up"])
            self._loaded.set()
            log.info("semantic search: model ready in %.1f s", time.monotonic() - started)
            status = self._catch_up_fully()
            log.info(
                "semantic search: index %s after %.1f s",
                status["status"],
                time.monotonic() - started,
            )
        except Exception as e:  # noqa: BLE001 - requests try again themselves and say why
            log.warning("semantic search warm-up failed: %s", e)
        finally:
            self._loaded.set()

    def _catch_up_fully(self) -> dict[str, Any]:
        """Steps until the index is at HEAD; waits while a request (or another process) holds
        the index, and stops when a step makes no progress."""
        done, busy = -1, 0
        while True:
            try:
                status = self.sync.step(self.sync_budget, wait=1.0)
            except Busy:
                busy += 1
                if busy > WARM_UP_BUSY_LIMIT:
                    return self.sync.status()
                continue
            if status["status"] != "in_progress" or status.get("done", 0) <= done:
                return status
            done = status.get("done", 0)

    def _wait_for_model(self) -> None:
        """While this process's warm-up is loading the model, wait for it within the sync budget,
        then say to retry rather than hold the request for seconds more."""
        if not self._warming.started_here() or self._loaded.is_set():
            return
        if not self._loaded.wait(self.sync_budget):
            raise Starting(
                "semantic search is starting: the embedding model is still loading", retry_after=5
            )

    def catch_up(self) -> dict[str, Any]:
        """Bring the index up to the repository's HEAD within the sync budget; never blocks long
        on another process that is already doing the work."""
        try:
            return self.sync.step(self.sync_budget, wait=0.2)
        except Busy:
            return self.sync.status()
        except (EmbeddingFailed, EmbedderUnavailable) as e:
            raise Unavailable(f"semantic search is unavailable: {e}") from None

    def _embed_query(self, query: str) -> Any:
        try:
            return self.embedder.embed([query])[0]
        except (EmbeddingFailed, EmbedderUnavailable) as e:
            raise Unavailable(f"semantic search is unavailable: {e}") from None

    def semantic(
        self,
        query: object,
        n: object = None,
        max_chunks_per_page: object = None,
        group: object = None,
    ) -> dict[str, Any]:
        """The nearest chunks. By default one entry per chunk, best first, `n` entries in all,
        at most `max_chunks_per_page` of one page: the contract of otterwiki-semantic-search,
        whose clients read these fields. `group="page"` gives one entry per page instead, `n`
        pages, each with its best chunks. Numbers above the maximum are lowered to it, as the
        older plugin does."""
        if not isinstance(query, str) or not query.strip():
            raise Invalid("query parameter 'q' is required")
        if group not in (None, "chunk", "page"):
            raise Invalid("group must be 'chunk' (one entry per chunk) or 'page'")
        n = _at_most(n, "n", 5, MAX_RESULTS)
        per_page = _at_most(max_chunks_per_page, "max_chunks_per_page", 2, MAX_CHUNKS_PER_PAGE)
        self._wait_for_model()
        status = self.catch_up()
        state = self.store.read()
        hits: list[tuple[dict[str, Any], float]] = []
        if state is not None and state.chunks:
            by_page = group == "page"
            hits = _nearest(state, self._embed_query(query.strip()), n, per_page, by_page)
        results = _by_page(hits, per_page) if group == "page" else [_entry(c, s) for c, s in hits]
        return {
            "query": query.strip(),
            "results": results,
            "total": len(results),
            "index": {"status": status["status"], "pending": status.get("pending")},
        }

    def hybrid(self, query: object, limit: object = None) -> dict[str, Any]:
        """Reciprocal-rank fusion (k=60) of the top 2×limit of the full-text ranking of pages
        with most of the query's words (`most_words`) and of the semantic ranking; the snippet
        is full text's (words marked) where it found the page.

        Why most words (benchmarks/bench_search.py, recall@5 / MRR@10): on 98 paraphrases that
        share no word with their page, any-word full text only adds pages that push the right
        one down (fused 0.837 / 0.661 with every word; 0.510 / 0.258 with any word, 0.837 /
        0.520 even weighted 0.05), while every word (the fusion before) rarely matches a
        question: 40 mixed ones like "why does the backup fail with E_QUOTA on weekends" got
        0.952 MRR. Most words keeps paraphrases and keywords as they were (0.837 / 0.661,
        1.000 / 0.975) and lifts mixed queries to 1.000 / 0.971 (vector 1.000 / 0.938, full
        text 0.975 / 0.929); the report's "fusion what-if" prints every variant."""
        if not isinstance(query, str) or not query.strip():
            raise Invalid("query parameter 'q' is required")
        limit = bounded_int(limit, "limit", 10, 1, MAX_RESULTS)
        depth = min(2 * limit, MAX_RESULTS)
        text = most_words(self.fulltext, query.strip(), depth)
        try:
            vector = self.semantic(query, depth, 1, "page")
        except Starting:  # full text alone until the model is ready, and say so
            vector = {"results": [], "index": {"status": "starting", "pending": None}}
        ordered = _fused((("fulltext", text), ("semantic", vector["results"])))[:limit]
        return {
            "query": query.strip(),
            "mode": "hybrid",
            "results": ordered,
            "total": len(ordered),
            "index": vector["index"],
        }


def most_words(
    fulltext: Callable[[str, int], dict[str, Any]], query: str, depth: int
) -> list[dict[str, Any]]:
    """Full-text hits (every word) and, for a query of 4-8 content words, hits on pages that
    miss one of them, after those with every word, by BM25: a question's own words ("why",
    "fail", "weekends") are rarely all on the page, but a page with few of them is only
    noise to the fusion (see `SemanticSearch.hybrid`)."""
    hits = fulltext(query, depth)["results"]
    words = query_words(query)
    if len(words) not in MOST_WORDS:
        return hits
    seen = {hit["path"] for hit in hits}
    missing_one: dict[str, dict[str, Any]] = {}
    for left_out in range(len(words)):
        rest = " ".join(words[:left_out] + words[left_out + 1 :])
        for hit in fulltext(rest, depth)["results"]:
            best = missing_one.get(hit["path"])
            if hit["path"] not in seen and (
                best is None or hit.get("score", 0) > best.get("score", 0)
            ):
                missing_one[hit["path"]] = hit
    ranked = sorted(missing_one.values(), key=lambda hit: -hit.get("score", 0))
    return (hits + ranked)[:depth]


def _fused(rankings: tuple[tuple[str, list[dict[str, Any]]], ...]) -> list[dict[str, Any]]:
    """One entry per page, best reciprocal-rank sum first; the first ranking's snippet wins."""
    fused: dict[str, dict[str, Any]] = {}
    for source, ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            entry = fused.setdefault(
                hit["path"],
                {
                    "name": hit["name"],
                    "path": hit["path"],
                    "snippet": hit["snippet"],
                    "section": hit.get("section"),
                    "score": 0.0,
                    "ranks": {},
                },
            )
            entry["section"] = entry["section"] or hit.get("section")
            entry["snippet"] = entry["snippet"] or hit["snippet"]
            entry["score"] += 1.0 / (RRF_K + rank)
            entry["ranks"][source] = rank
    ordered = sorted(fused.values(), key=lambda e: e["score"], reverse=True)
    for entry in ordered:
        entry["score"] = round(entry["score"], 6)
    return ordered
