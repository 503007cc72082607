"""Pages as MCP resources: one template, `wiki://page/{path}`, whose path may contain '/'."""

from __future__ import annotations

from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError
from otterwiki_api.errors import WikiError

from .backend import WikiBackend
from .errors import tool_error

PAGE_TEMPLATE = "wiki://page/{path*}"


def register_resources(mcp: FastMCP, backend: WikiBackend) -> None:
    @mcp.resource(PAGE_TEMPLATE, name="note", mime_type="text/markdown")
    def note(path: str) -> str:
        """A wiki note's current markdown, e.g. wiki://page/Projects/Plan."""
        try:
            return backend.get_page(path)["content"]
        except WikiError as e:
            raise ResourceError(str(tool_error(e))) from None
