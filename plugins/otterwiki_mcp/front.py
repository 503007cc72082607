"""What a host name gets before its caller has authenticated: the OAuth endpoints and the 401
challenge, never an MCP server.

An MCP server (FastMCP with every tool, resource and prompt) takes about 0.1 s to build, and the
router keeps one per public origin. Built on the first request under a new Host header, anyone
could make the wiki build servers by sending made-up host names. So the origin's server is built
only for a caller the origin's auth provider accepts; before that a request meets
- `challenge`: a POST or DELETE to the MCP path without a bearer token is answered 401 at once,
  the same answer FastMCP gives, with nothing built for the origin;
- a front (`build_front`, under a millisecond): the auth provider's own routes (discovery,
  registration, /authorize, /token, the approval page) and the MCP path behind the same
  authentication FastMCP puts there, which passes an accepted caller on to `forward`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastmcp.server.auth import AuthProvider
from fastmcp.server.auth.middleware import RequireAuthMiddleware
from fastmcp.server.http import create_base_app
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.routing import Route

from .server import cors
from .settings import McpSettings

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
MCP_METHODS = ["POST", "DELETE"]  # a stateless server's (FastMCP's create_streamable_http_app)
ROUTING_KEYS = ("app", "router", "route", "endpoint", "path_params", "user", "auth")


def has_bearer(scope: dict[str, Any]) -> bool:
    """Whether the request presents a bearer token (the test FastMCP's auth makes first)."""
    return any(
        name.lower() == b"authorization" and value[:7].lower() == b"bearer "
        for name, value in scope.get("headers", [])
    )


def metadata_url(origin: str, settings: McpSettings) -> AnyHttpUrl | None:
    """The protected-resource metadata URL a challenge names (RFC 9728), when the configured
    auth publishes one: an OAuth mode does, static tokens alone do not."""
    if settings.auth == "tokens":
        return None
    return AnyHttpUrl(f"{origin}/.well-known/oauth-protected-resource{settings.path}")


def challenge(origin: str, settings: McpSettings) -> ASGIApp:
    """The 401 for a request to the MCP path without a token, with CORS headers so a browser
    client can read it."""
    guard = RequireAuthMiddleware(None, [], metadata_url(origin, settings))
    cls, args, kwargs = cors(settings)
    return cls(guard, *args, **kwargs)  # type: ignore[no-any-return]


def build_front(
    origin: str, auth: AuthProvider, settings: McpSettings, forward: ASGIApp
) -> Starlette:
    """`origin`'s OAuth routes and its MCP path, where a caller `auth` accepts is passed on to
    `forward` (the origin's MCP server). Raises ValueError as the provider's routes do (a
    plain-http issuer off localhost)."""
    routes = auth.get_routes(mcp_path=settings.path)
    guard = RequireAuthMiddleware(
        _Unrouted(forward), auth.required_scopes, metadata_url(origin, settings)
    )
    routes.append(Route(settings.path, endpoint=guard, methods=MCP_METHODS))
    return create_base_app(
        routes=routes, middleware=[*auth.get_middleware(), cors(settings)], debug=False
    )


class _Unrouted:
    """`forward` called with the scope as it came in: without the front's routing and
    authentication results, which the MCP server works out again for itself."""

    def __init__(self, forward: ASGIApp) -> None:
        self.forward = forward

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        clean = {k: v for k, v in scope.items() if k not in ROUTING_KEYS}
        await self.forward(clean, receive, send)
