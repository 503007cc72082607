"""Keeping the vector store in step with git, in bounded steps (a Lambda instance is frozen
between requests, so there is no background thread).

Work is a *job* saved in the store: the commit it brings the store to and the pages still to
embed. A search, a `repository_changed` hook, `POST /api/v1/reindex` or `wikibot reindex` each
run one step within a time budget; a step embeds a batch of pages, saves, and goes on until the
budget is spent or the job is done. When the job is done the store's HEAD becomes the job's
commit. Any process can continue a job another one started.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from otterwiki_api.gitcli import Git
from otterwiki_api.pagepaths import display_path

from .chunking import chunk_page
from .embedding import Embedder, identity
from .store import StoreState, VectorStore, empty_vectors, engine

log = logging.getLogger(__name__)
SAVE_EVERY = 10.0  # seconds of embedding between saves within one long step


@dataclass(frozen=True)
class ChunkingRules:
    size: int
    overlap: int


class VectorSync:
    def __init__(
        self,
        git: Git,
        store: VectorStore,
        embedder: Embedder,
        chunking: ChunkingRules,
        retain_case: Callable[[], bool],
        batch_pages: int = 32,
    ) -> None:
        self.git = git
        self.store = store
        self.embedder = embedder
        self.chunking = chunking
        self.retain_case = retain_case
        self.batch_pages = batch_pages

    def identity(self) -> dict[str, Any]:
        return {
            **identity(self.embedder),
            "chunk_size": self.chunking.size,
            "chunk_overlap": self.chunking.overlap,
        }

    # -- status ----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self._status(self.store.read(), self.git.head())

    def _status(self, state: StoreState | None, head: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "embedder": self.identity(),
            "engine": engine(),
            "repository_head": head,
            "index_head": state.head if state else None,
            "chunks": len(state.chunks) if state else 0,
            "pages": len(state.pages()) if state else 0,
        }
        job = state.job if state else None
        if job:
            answer.update(
                status="in_progress",
                reason=job["reason"],
                total=job["total"],
                done=job["total"] - len(job["pending"]),
                pending=len(job["pending"]),
                started_at=job["started_at"],
            )
        elif state is None:
            answer.update(status="not_built", pending=None)
        elif state.identity != self.identity():  # say why before the rebuild starts, too
            built, wanted = _describe(state.identity), _describe(self.identity())
            answer.update(
                status="not_built",
                pending=None,
                reason=f"rebuild needed: built with {built}, now {wanted}",
            )
        elif state.head != head:
            answer.update(status="behind", pending=None)
        else:
            answer.update(status="complete", pending=0)
        return answer

    # -- work ------------------------------------------------------------------------------------
    def _up_to_date(self, state: StoreState | None, head: str | None) -> bool:
        """True when there is nothing to do."""
        return (
            state is not None
            and state.job is None
            and state.identity == self.identity()
            and state.head == head
        )

    def incremental(self) -> bool:
        """True when the store is built with this embedder and no long job is under way, so
        catching up means embedding just the pages that changed."""
        state = self.store.read()
        return state is not None and state.job is None and state.identity == self.identity()

    def step(self, budget: float, full: bool = False, wait: float | None = None) -> dict[str, Any]:
        """Do up to `budget` seconds of work (at least one batch when work is pending).
        `wait` bounds how long to wait for another process that is working already. Returns
        the status after it, as `status()` does."""
        if not full:  # checked without taking the lock
            state, head = self.store.read(), self.git.head()
            if self._up_to_date(state, head):
                return self._status(state, head)
        started = time.monotonic()
        with self.store.update(wait) as state:
            state = self._plan(state, full)
            last_save = time.monotonic()
            while state.job and state.job["pending"]:
                self._embed_batch(state)
                if time.monotonic() - started >= budget:
                    break
                if time.monotonic() - last_save >= SAVE_EVERY:  # keep long steps resumable
                    self.store.save(state)
                    last_save = time.monotonic()
            if state.job and not state.job["pending"]:
                state.head = state.job["target"]
                log.info("vector index: %s finished at %s", state.job["reason"], state.head)
                state.job = None
            self.store.save(state)  # one save per step: a new segment and manifest (store.py)
        return self._status(state, self.git.head())

    def _plan(self, state: StoreState | None, full: bool) -> StoreState:
        """Decide what is left to do and record it as the store's job."""
        wanted = self.identity()
        head = self.git.head()
        if state is None or state.identity != wanted:
            reason = "first build"
            if state is not None:
                reason = f"rebuild: built with {_describe(state.identity)}, now {_describe(wanted)}"
            return self._start(StoreState(wanted), head, reason, everything=True)
        if state.job and not full:
            return state
        if full:
            return self._start(state, head, "full reindex requested", everything=True)
        if state.head == head:
            return state
        if state.head is None or head is None or not self.git.is_ancestor(state.head, head):
            return self._start(state, head, "history was rewritten", everything=True)
        changed = self.git.run(
            "diff", "--name-only", "--no-renames", "-z", state.head, head
        ).decode("utf-8", "surrogateescape")
        pages = sorted({p for p in changed.split("\0") if p.endswith(".md")})
        if not pages:
            state.head = head
            return state
        return self._start(state, head, f"sync {len(pages)} changed page(s)", pages=pages)

    def _start(
        self,
        state: StoreState,
        head: str | None,
        reason: str,
        *,
        everything: bool = False,
        pages: list[str] | None = None,
    ) -> StoreState:
        if everything:
            pages = sorted(p for p in (self.git.ls_tree(head) if head else {}) if p.endswith(".md"))
            state.drop_pages(state.pages() - set(pages))
        log.info("vector index: %s (%d page(s))", reason, len(pages or []))
        state.job = {
            "reason": reason,
            "target": head,
            "pending": pages or [],
            "total": len(pages or []),
            "started_at": datetime.now(UTC).isoformat(),
        }
        return state

    def _embed_batch(self, state: StoreState) -> None:
        job = state.job
        assert job is not None
        batch = job["pending"][: self.batch_pages]
        blobs = self.git.cat_blobs([f"{job['target']}:{p}" for p in batch])
        retain = self.retain_case()
        chunks: list[dict[str, Any]] = []
        for page, blob in zip(batch, blobs, strict=True):
            if blob is None:  # deleted (or renamed away) by the target commit
                continue
            shown = display_path(page, retain)
            parts = chunk_page(
                shown.rsplit("/", 1)[-1],
                blob.decode("utf-8", "replace"),
                self.chunking.size,
                self.chunking.overlap,
                self.embedder.fits,
            )
            chunks += [
                {
                    "page": page,
                    "path": shown,
                    "name": parts.title,
                    "section": c.section,
                    "section_path": c.context,
                    "chunk_index": i,
                    "total_chunks": len(parts.chunks),
                    "page_word_count": parts.words,
                    "text": c.text,
                    "embed": c.embed_text,
                }
                for i, c in enumerate(parts.chunks)
            ]
        vectors = (
            self.embedder.embed([c.pop("embed") for c in chunks])
            if chunks
            else empty_vectors(self.embedder.dimension)
        )
        state.drop_pages(set(batch))
        state.add(chunks, vectors)
        job["pending"] = job["pending"][len(batch) :]


def _describe(ident: dict[str, Any]) -> str:
    return (
        f"{ident.get('embedder')}/{ident.get('model')}/{ident.get('dimension')}d"
        f"/chunks {ident.get('chunk_size')}+{ident.get('chunk_overlap')}"
        f" layout {ident.get('chunk_layout', 1)}"
    )
