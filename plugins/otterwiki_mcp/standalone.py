"""The separate MCP service: an ASGI app over the REST API (HTTP backend), configured from the
environment. Serve it with `uvicorn --factory otterwiki_mcp.standalone:create_app`, or wrap it
with Mangum on Lambda.

Needs WIKIBOT_API_URL (the wiki, e.g. https://wiki.example.org) and WIKIBOT_API_KEY (an admin
key: every write names the signed-in user as its author, which the REST API refuses from any other
key). The local OAuth server's approval page recognises the wiki account the browser is signed
in with, and accepts the wiki's write-scope API keys (asked of the wiki) and, if set,
WIKIBOT_MCP_APPROVAL_KEY.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .app import build_asgi
from .httpbackend import HttpBackend
from .paths import DeclaredPath
from .router import PLACEHOLDER_ORIGIN, OriginRouter
from .settings import McpSettings


def create_app(config: Mapping[str, Any] | None = None) -> OriginRouter:
    """The MCP ASGI app; `config` overrides the environment (tests, embedding)."""
    settings = McpSettings.from_config(config or {})
    if not settings.api_url or not settings.api_key:
        raise ValueError("the MCP service needs WIKIBOT_API_URL and WIKIBOT_API_KEY")
    backend = HttpBackend(settings.api_url, settings.api_key, timeout=settings.http_timeout)
    return build_asgi(settings, backend)


def declared_paths(config: Mapping[str, Any] | None = None) -> list[DeclaredPath]:
    """Every path and method the MCP service serves under this configuration (for the route
    plan). Builds the app, makes no request."""
    return create_app(config).declared_paths()


def authorization_paths(config: Mapping[str, Any] | None = None) -> list[DeclaredPath]:
    """The paths the wiki serves as this MCP service's authorization server: in wiki mode the
    OAuth endpoints, approval page and JWKS (and /mcp itself when WIKIBOT_MCP_ENABLED is on
    there), else none. For the route plan: built over a stand-in backend, with the state in
    memory; makes no request and writes no file."""
    settings = McpSettings.from_config(config or {})
    if settings.auth != "wiki":
        return []
    settings = replace(settings, state_path=None, keys_path=None)
    backend = HttpBackend(settings.api_url or PLACEHOLDER_ORIGIN, settings.api_key or "-")
    return build_asgi(settings, backend, issues=True).declared_paths()
