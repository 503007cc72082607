"""Who is calling: the authenticated identity becomes the git author of the commits tools make."""

from __future__ import annotations

from fastmcp.server.dependencies import get_access_token
from otterwiki_api.authors import acceptable

from .backend import Author

FALLBACK: Author = ("MCP client", "mcp@wikibot.local")


def current_author() -> Author:
    """(name, email) from the request's access token: its `email` claim, else its subject.

    Local OAuth tokens and static tokens carry name and email; AuthKit tokens carry at least `sub`
    (and `email` when the AuthKit JWT template adds it).
    """
    token = get_access_token()
    if token is None:
        return FALLBACK
    claims = token.claims or {}
    email = claims.get("email") or token.subject or claims.get("sub")
    if not email:
        return FALLBACK
    name, email = str(claims.get("name") or claims.get("preferred_username") or email), str(email)
    if acceptable(name, email):
        return name, email
    return (email, email) if acceptable(email, email) else FALLBACK
