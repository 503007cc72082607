"""One MCP server as a Starlette app: tools and resources over a backend, the configured auth,
stateless Streamable HTTP with JSON responses, and the CORS headers browser clients need."""

from __future__ import annotations

from fastmcp import FastMCP
from fastmcp.server.auth import AuthProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from .backend import WikiBackend
from .prompts import register_prompts
from .resources import register_resources
from .settings import McpSettings
from .tools import register_tools

VERSION = "0.1.0"  # wikibot's, as serverInfo reports it (tests/test_mcp_units.py keeps it in step)
INSTRUCTIONS = """\
A wiki of markdown notes kept in git. Notes have paths like 'Projects/Plan' and link each other
with [[Wiki Links]]. Find notes with search_notes (words), semantic_search (meaning) or
list_notes; read one with read_note before changing it. Changes need the revision you read:
edit_note or update_note for small changes (update_note appends to a note, such as a log, without
reading it first), write_note to create or replace. If a write reports a conflict,
read the note again and redo the change on the new text. Every change is a commit authored by
you and can be seen in get_history and get_recent_changes."""


def build_server(backend: WikiBackend, auth: AuthProvider | None) -> FastMCP:
    mcp = FastMCP(
        "wikibot", version=VERSION, instructions=INSTRUCTIONS, auth=auth, mask_error_details=True
    )
    register_tools(mcp, backend)
    register_resources(mcp, backend)
    register_prompts(mcp)
    return mcp


def cors(settings: McpSettings) -> Middleware:
    """Let browser-based clients call the MCP endpoint and read 401 challenges. Tokens travel in
    the Authorization header, never in cookies, so credentials stay off."""
    return Middleware(
        CORSMiddleware,  # type: ignore[arg-type]
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"],
        max_age=86400,
    )


def build_authorization_app(auth: AuthProvider, settings: McpSettings) -> Starlette:
    """Only the authorization server's routes: the wiki in wiki mode, whose tokens an MCP
    endpoint in another function accepts."""
    return Starlette(routes=auth.get_routes(mcp_path=settings.path), middleware=[cors(settings)])


def build_http_app(
    backend: WikiBackend, auth: AuthProvider | None, settings: McpSettings
) -> Starlette:
    return build_server(backend, auth).http_app(
        path=settings.path,
        stateless_http=True,
        json_response=True,
        middleware=[cors(settings)],
    )
