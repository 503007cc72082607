"""Otterwiki hook implementations for semantic search."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from flask import Flask
from otterwiki.plugins import hookimpl

from .runtime import SearchRuntime
from .settings import SearchSettings
from .webpage import SearchPageHooks, page

log = logging.getLogger(__name__)


def build_runtime(config: Any, repository: str) -> SearchRuntime:
    """Everything semantic search needs, or an unavailable runtime that says why (never raises:
    the wiki and the rest of the API must keep working)."""
    try:
        settings = SearchSettings.from_config(config, repository)
    except ValueError as e:
        return SearchRuntime(None, unavailable_reason=f"bad configuration: {e}")
    if importlib.util.find_spec("numpy") is None:
        return SearchRuntime(
            settings, unavailable_reason="numpy is not installed: pip install 'wikibot[search]'"
        )
    try:
        from otterwiki_api.gitcli import Git

        from .embedding import EmbedderUnavailable, make_embedder
        from .searching import SemanticSearch
        from .store import VectorStore
        from .sync import ChunkingRules, VectorSync
    except ImportError as e:
        return SearchRuntime(
            settings, unavailable_reason=f"{e.name} is not installed: pip install 'wikibot[search]'"
        )
    try:
        embedder = make_embedder(settings)
    except EmbedderUnavailable as e:
        return SearchRuntime(settings, unavailable_reason=str(e))
    store = VectorStore(settings.index_dir, lock_timeout=max(settings.lock_timeout, 60.0))
    retain_case = lambda: bool(config.get("RETAIN_PAGE_NAME_CASE"))  # noqa: E731
    sync = VectorSync(
        Git(repository),
        store,
        embedder,
        ChunkingRules(settings.chunk_size, settings.chunk_overlap),
        retain_case,
        settings.batch_pages,
    )

    def fulltext(query: str, limit: int) -> dict[str, Any]:
        from flask import current_app

        return current_app.extensions["wikibot_api"].service.search(query, limit, all_words=True)

    search = SemanticSearch(sync, store, embedder, fulltext, settings.sync_budget)
    return SearchRuntime(settings, search, sync)


class SearchPlugin(SearchPageHooks):
    def __init__(self) -> None:
        self.runtime: SearchRuntime | None = None

    @hookimpl(trylast=True)
    def setup(self, app: Flask, db: Any, storage: Any) -> None:
        from .routes import bp

        self.runtime = build_runtime(app.config, storage.path)
        if self.runtime.unavailable_reason:
            log.warning("wikibot semantic search: %s", self.runtime.unavailable_reason)
        app.extensions["wikibot_search"] = self.runtime
        from .openapi_paths import openapi_paths

        app.extensions.setdefault("wikibot_openapi_paths", {}).update(openapi_paths())
        app.register_blueprint(bp)
        search, settings = self.runtime.search, self.runtime.settings
        if search is not None and settings is not None and settings.warm_up:
            # after a request, not now: a pre-forking server (uWSGI) builds the app in its
            # master, and a thread started there would not exist in the workers
            @app.before_request
            def _warm_up() -> None:  # returns None: a value would become the response
                search.start_warm_up()

        app.register_blueprint(page)  # the page for people, /-/semantic-search (webpage.py)
        csrf = app.extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(bp)

    @hookimpl
    def repository_changed(self, changed_files: list[str]) -> None:
        """Embed what this process just changed; a failure here must never fail the write."""
        rt = self.runtime
        if rt is None or rt.sync is None or rt.settings is None:
            return
        if not any(f.endswith(".md") for f in changed_files) or not rt.sync.incremental():
            return  # a first build or a model change is for reindex or the next search
        try:
            rt.sync.step(rt.settings.sync_budget, wait=0.2)
        except Exception as e:  # noqa: BLE001 - logged; the next search catches up
            log.warning("vector index not updated after a write (%s); the next search will", e)

    @hookimpl
    def info(self) -> tuple[str, str, str]:
        return ("wikibot semantic search", "search pages by meaning", "Search")
