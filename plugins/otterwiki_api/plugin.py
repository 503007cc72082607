"""Otterwiki hook implementations: wire the service into the app and keep the index current."""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from otterwiki.plugins import hookimpl, plugin_manager

from . import deadline
from .auth import KeyRing, load_keys
from .errors import Busy
from .index_settings import BuildSettings
from .page_index import LinkRules
from .repolock import FileLock
from .runtime import ApiRuntime
from .service import Author, WikiService, repository_lock
from .settings import ApiSettings
from .webwrites import WebWrites

log = logging.getLogger(__name__)

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def link_rules(config: MutableMapping[str, Any]) -> Callable[[], LinkRules]:
    """Read Otterwiki's naming settings live: an admin can change them at run time."""
    return lambda: LinkRules(
        retain_case=bool(config.get("RETAIN_PAGE_NAME_CASE")),
        wikilink_style=str(config.get("WIKILINK_STYLE") or ""),
    )


class OtterwikiListener:
    """Forwards the service's commits to Otterwiki's plugin hooks, as GitStorage does."""

    def repository_changed(self, files: list[str]) -> None:
        plugin_manager.hook.repository_changed(changed_files=files)
        try:
            from otterwiki.repomgmt import get_repo_manager

            manager = get_repo_manager()
            if manager:
                manager.auto_push_if_enabled()
        except Exception:  # auto-push is best effort, as in Otterwiki itself
            log.exception("auto-push after an API write failed")

    def page_saved(self, pagepath: str, content: str, author: Author, message: str) -> None:
        plugin_manager.hook.page_saved(
            pagepath=pagepath, content=content, author=author, message=message
        )

    def page_deleted(self, pagepath: str, author: Author, message: str) -> None:
        plugin_manager.hook.page_deleted(pagepath=pagepath, author=author, message=message)

    def page_renamed(self, old: str, new: str, author: Author, message: str) -> None:
        plugin_manager.hook.page_renamed(
            old_pagepath=old, new_pagepath=new, author=author, message=message
        )


def serialise_web_writes(app: Flask, lock: FileLock, writes: WebWrites) -> None:
    """Hold the lock for a whole web-UI write request, so multi-step operations (a rename that
    rewrites backlinks) are atomic with respect to other processes; whatever such a request
    changed without committing goes back to HEAD when it ends."""

    @app.before_request
    def _take_lock() -> None:
        if request.method in _SAFE_METHODS or request.path.startswith("/api/"):
            return
        lock.acquire(deadline.wait_limit(lock.timeout))
        g.wikibot_write_lock = True
        deadline.require()  # too late to write: refused before anything changed

    @app.teardown_request
    def _drop_lock(_: BaseException | None) -> None:
        if g.pop("wikibot_write_lock", False):
            try:
                writes.finish()
            finally:
                lock.release()

    @app.errorhandler(Busy)
    def _busy(error: Busy) -> tuple[Response, int]:
        return jsonify(error.to_dict()), error.status


class ApiPlugin:
    """The REST API plugin object registered with Otterwiki's plugin manager."""

    def __init__(self) -> None:
        self.runtime: ApiRuntime | None = None

    @hookimpl
    def setup(self, app: Flask, db: Any, storage: Any) -> None:
        from . import outlinecache, whoami
        from .routes import install

        settings = ApiSettings.from_config(app.config, storage.path)
        lock = repository_lock(settings.repository, settings.lock_timeout)
        service = WikiService(
            settings.repository,
            settings.index_dir,
            link_rules(app.config),
            lock=lock,
            listener=OtterwikiListener(),
            lock_timeout=settings.lock_timeout,
            stale_lock_after=settings.stale_lock_after,
            max_body_bytes=settings.max_body_bytes,
            build=BuildSettings.from_config(app.config),
        )
        keys = load_keys(settings)
        if not keys:
            log.warning("wikibot API: no API key configured; set WIKIBOT_API_KEY")
        self.runtime = ApiRuntime(settings, service, KeyRing(keys))
        app.extensions["wikibot_api"] = self.runtime
        writes = WebWrites(storage, service.commits, lock, service.listener)
        writes.install()
        outlinecache.install(db)
        serialise_web_writes(app, lock, writes)
        install(app)
        whoami.install(app)
        # catch up only: a first build's slices belong to requests (a start, e.g. a Lambda
        # instance's, would otherwise add one to its first request's wait)
        service.index.ensure_current(build=False)

    @hookimpl
    def repository_changed(self, changed_files: list[str]) -> None:
        if self.runtime is not None:
            self.runtime.service.index.ensure_current()

    @hookimpl
    def info(self) -> tuple[str, str, str]:
        return ("wikibot REST API", "JSON REST API under /api/v1", "API")
