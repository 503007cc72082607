"""In-wiki mode: the MCP app served by the wiki's own WSGI server, over the in-process backend.

The approval page of the local OAuth server accepts the wiki's API keys with write scope (the
key's author is the default identity) and, if set, WIKIBOT_MCP_APPROVAL_KEY.
"""

from __future__ import annotations

import logging

from flask import Flask
from otterwiki_api.errors import WikiError

from .app import build_asgi, plain_keys
from .approval import Identity
from .inprocess import InProcessBackend
from .local_oauth import KeyCheck
from .router import OriginRouter
from .settings import McpSettings
from .wsgi import McpDispatcher

log = logging.getLogger(__name__)


def wiki_keys(app: Flask, approval_key: str | None) -> KeyCheck:
    plain = plain_keys([approval_key])

    def check(key: str) -> Identity | None:
        if not key:
            return None
        runtime = app.extensions.get("wikibot_api")
        if runtime is not None:
            try:
                found = runtime.keys.authenticate(f"Bearer {key}", "write")
                return Identity(found.author_name, found.author_email)
            except WikiError:
                pass
        return plain(key)

    return check


def install(app: Flask, settings: McpSettings) -> OriginRouter:
    """Route the MCP app's declared paths (and only those) away from Flask."""
    api = app.extensions.get("wikibot_api")
    if settings.auth == "local" and not settings.approval_key and not (api and api.keys.keys):
        log.warning(
            "wikibot MCP: nobody can approve MCP clients; set WIKIBOT_API_KEY (or keys) or "
            "WIKIBOT_MCP_APPROVAL_KEY"
        )
    backend = InProcessBackend(app)
    site = str(app.config.get("SITE_NAME") or "the wiki")
    router = build_asgi(settings, backend, wiki_keys(app, settings.approval_key), site)
    app.wsgi_app = McpDispatcher(  # type: ignore[method-assign]
        app.wsgi_app, router, router.declared_paths(), settings.path
    )
    return router
