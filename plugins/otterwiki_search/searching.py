"""Semantic search (one entry per page, best chunks attached) and hybrid search (full text and
vectors fused by reciprocal-rank fusion)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from otterwiki_api.errors import Busy, Invalid, Unavailable, bounded_int

from .embedding import Embedder, EmbedderUnavailable, EmbeddingFailed

if TYPE_CHECKING:
    from .store import VectorStore
    from .sync import VectorSync

log = logging.getLogger(__name__)

RRF_K = 60
MAX_RESULTS = 50
SNIPPET_CHARS = 200


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    return text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


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
        self, query: object, n: object = None, max_chunks_per_page: object = None
    ) -> dict[str, Any]:
        if not isinstance(query, str) or not query.strip():
            raise Invalid("query parameter 'q' is required")
        n = bounded_int(n, "n", 5, 1, MAX_RESULTS)
        per_page = bounded_int(max_chunks_per_page, "max_chunks_per_page", 2, 1, 20)
        status = self.catch_up()
        state = self.store.read()
        results: list[dict[str, Any]] = []
        if state is not None and state.chunks:
            vector = self._embed_query(query.strip())
            k = n * per_page * 4
            while True:
                pages: dict[str, dict[str, Any]] = {}
                for row, score in state.search(vector, k):
                    chunk = state.chunks[row]
                    page = pages.setdefault(
                        chunk["page"],
                        {
                            "name": chunk["name"],
                            "path": chunk["path"],
                            "score": score,
                            "chunks": [],
                        },
                    )
                    if len(page["chunks"]) < per_page:
                        page["chunks"].append(
                            {
                                "text": chunk["text"],
                                "section": chunk["section"],
                                "score": round(score, 6),
                            }
                        )
                if len(pages) >= n or k >= len(state.chunks):
                    break
                k *= 4
            for page in list(pages.values())[:n]:
                page["score"] = round(page["score"], 6)
                page["distance"] = round(1.0 - page["score"], 6)
                page["snippet"] = _snippet(page["chunks"][0]["text"])
                results.append(page)
        return {
            "query": query.strip(),
            "results": results,
            "total": len(results),
            "index": {"status": status["status"], "pending": status.get("pending")},
        }

    def hybrid(self, query: object, limit: object = None) -> dict[str, Any]:
        """Reciprocal-rank fusion of the full-text and the semantic ranking.

        Only the top 2×limit of each ranking take part: with long lists, every full-text hit that
        also sits low in the semantic list would outrank the semantic list's best page
        (benchmarks/bench_search.py, "fusion what-if")."""
        if not isinstance(query, str) or not query.strip():
            raise Invalid("query parameter 'q' is required")
        limit = bounded_int(limit, "limit", 10, 1, MAX_RESULTS)
        depth = min(2 * limit, MAX_RESULTS)
        text = self.fulltext(query, depth)["results"]
        vector = self.semantic(query, depth, 1)
        fused: dict[str, dict[str, Any]] = {}
        for source, ranking in (("fulltext", text), ("semantic", vector["results"])):
            for rank, hit in enumerate(ranking, start=1):
                entry = fused.setdefault(
                    hit["path"],
                    {
                        "name": hit["name"],
                        "path": hit["path"],
                        "snippet": hit["snippet"],
                        "score": 0.0,
                        "ranks": {},
                    },
                )
                entry["score"] += 1.0 / (RRF_K + rank)
                entry["ranks"][source] = rank
        ordered = sorted(fused.values(), key=lambda e: e["score"], reverse=True)[:limit]
        for entry in ordered:
            entry["score"] = round(entry["score"], 6)
        return {
            "query": query.strip(),
            "mode": "hybrid",
            "results": ordered,
            "total": len(ordered),
            "index": vector["index"],
        }
