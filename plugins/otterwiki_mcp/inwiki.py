"""In-wiki mode: the MCP app served by the wiki's own WSGI server, over the in-process backend.

The approval page of the local OAuth server reads the wiki's own session (the person signed in
approves as themselves), and accepts the wiki's API keys with write scope (the key's author is the
default identity) and, if set, WIKIBOT_MCP_APPROVAL_KEY.

The app (FastMCP, the MCP SDK, Starlette: over a thousand modules, more than a second) is built
on the first request for one of its paths, not when the wiki starts. Which paths are its is kept
in `.git/wikibot/mcp-paths.json` under a fingerprint of the settings and the code, so only the
first start with new settings or code builds the app to read them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask

from .inprocess import InProcessBackend
from .paths import DeclaredPath, fingerprint, load_paths, save_paths
from .settings import McpSettings
from .wsgi import McpDispatcher

if TYPE_CHECKING:
    from .router import OriginRouter

log = logging.getLogger(__name__)


class LazyMcp:
    """The MCP app, built once, by whichever request needs it first."""

    def __init__(self, build: Callable[[], OriginRouter]) -> None:
        self._build = build
        self._app: OriginRouter | None = None
        self._lock = threading.Lock()

    def app(self) -> Any:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def declared_paths(self) -> list[DeclaredPath]:
        return self.app().declared_paths()


def install(app: Flask, settings: McpSettings) -> LazyMcp:
    """Route the MCP app's declared paths (and only those) away from Flask."""
    api = app.extensions.get("wikibot_api")
    approves = settings.auth in ("local", "wiki")
    if approves and not settings.approval_key and not (api and api.keys.keys):
        log.warning(
            "wikibot MCP: nobody can approve MCP clients; set WIKIBOT_API_KEY (or keys) or "
            "WIKIBOT_MCP_APPROVAL_KEY"
        )

    def build() -> OriginRouter:
        from .app import build_asgi

        return build_asgi(settings, InProcessBackend(app), issues=True)

    mcp = LazyMcp(build)
    saved = os.path.join(str(app.config["REPOSITORY"]), ".git", "wikibot", "mcp-paths.json")
    key = fingerprint(settings)
    paths = load_paths(saved, key)
    if paths is None:
        paths = mcp.declared_paths()
        save_paths(saved, key, paths)
    app.wsgi_app = McpDispatcher(app.wsgi_app, mcp.app, paths, settings.path)  # type: ignore[method-assign]
    return mcp
