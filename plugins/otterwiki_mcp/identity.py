"""Who is calling: the authenticated identity becomes the git author of the commits tools make,
and a wiki account's permissions (as approved) decide whether it may write at all."""

from __future__ import annotations

from typing import Any

from fastmcp.server.dependencies import get_access_token
from otterwiki_api.authors import acceptable
from otterwiki_api.errors import Forbidden

from .backend import Author

FALLBACK: Author = ("MCP client", "mcp@wikibot.local")
DOING = {"write": "change notes", "upload": "add or delete attachments"}


def identity_claims(identity: dict[str, Any]) -> dict[str, Any]:
    """The claims naming who approved: the git author and, for a wiki account, the
    permissions it had when it approved (`current_author` reads them)."""
    claims = {"sub": identity["email"], "email": identity["email"], "name": identity["name"]}
    if identity.get("account"):
        claims.update(
            wiki_account=True, wiki_write=identity["write"], wiki_upload=identity["upload"]
        )
    return claims


def current_author(permission: str = "write") -> Author:
    """(name, email) from the request's access token, for a change needing `permission`
    ("write", or "upload" for attachments): its `email` claim, else its subject.

    Local OAuth tokens and static tokens carry name and email; AuthKit tokens carry at least `sub`
    (and `email` when the AuthKit JWT template adds it). A token approved by a wiki account
    carries that account's permissions: without this one, the change is refused.
    """
    token = get_access_token()
    if token is None:
        return FALLBACK
    claims = token.claims or {}
    email = claims.get("email") or token.subject or claims.get("sub")
    if claims.get("wiki_account") and not claims.get(f"wiki_{permission}"):
        raise Forbidden(
            f"the wiki account {email} may not {DOING[permission]} in this wiki",
            advice="Only reading works with this connection. Ask the wiki's admin for "
            f"{permission} access, then connect again (permissions are read when you approve).",
        )
    if not email:
        return FALLBACK
    name, email = str(claims.get("name") or claims.get("preferred_username") or email), str(email)
    if acceptable(name, email):
        return name, email
    return (email, email) if acceptable(email, email) else FALLBACK
