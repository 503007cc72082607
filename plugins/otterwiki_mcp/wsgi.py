"""Serving the MCP ASGI app from a WSGI server (Otterwiki is Flask): requests for a declared path
go to the MCP app through a2wsgi, everything else to the wiki.

A path is the MCP app's only for its declared methods, so a wiki page named like an OAuth endpoint
(`/token`) still shows on GET; the MCP endpoint itself takes every method (GET there is a 405).
The app, and the event loop a2wsgi runs it on, start with the first MCP request, not at import.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .paths import DeclaredPath

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class McpDispatcher:
    def __init__(
        self, wiki: WSGIApp, asgi: Callable[[], Any], paths: list[DeclaredPath], mcp_path: str
    ) -> None:
        self.wiki = wiki
        self.asgi = asgi  # makes the app: built on the first request for one of its paths
        self.mcp_path = mcp_path
        self.exact = {p.path: set(p.methods) for p in paths if not p.prefix}
        self.prefixes = [(p.path.rstrip("/") + "/", set(p.methods)) for p in paths if p.prefix]
        self._bridge: WSGIApp | None = None
        self._lock = threading.Lock()

    def serves(self, path: str, method: str) -> bool:
        methods = self.exact.get(path)
        if methods is None:
            methods = next((m for prefix, m in self.prefixes if path.startswith(prefix)), None)
        return methods is not None and (path == self.mcp_path or method in methods)

    def bridge(self) -> WSGIApp:
        """a2wsgi around the MCP app, on an event loop in a daemon thread of its own."""
        with self._lock:
            if self._bridge is None:
                from a2wsgi import ASGIMiddleware

                app = self.asgi()  # first: a build that fails leaves no loop thread behind
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="wikibot-mcp", daemon=True).start()
                self._bridge = ASGIMiddleware(app, loop=loop)
            return self._bridge

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.serves(environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")):
            return self.bridge()(environ, start_response)
        return self.wiki(environ, start_response)
