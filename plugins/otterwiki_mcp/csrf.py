"""Tokens for the forms a signed-in person submits (approve a client, revoke one).

The browser's wiki session is sent with any request to the wiki's origin, also one another site
makes it send; a form that acts on that session must prove it came from our page. Its token is
an HMAC of what the form acts on and who it acts for, under a secret of the OAuth store: another
site can get a token only for its own session (by loading the page itself), never for a visitor's.
No cookie of our own is needed, so the same works where the MCP app runs apart from the wiki.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def form_token(secret: bytes, *parts: str) -> str:
    digest = hmac.new(secret, "\x00".join(parts).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def valid(secret: bytes, token: str, *parts: str) -> bool:
    return hmac.compare_digest(form_token(secret, *parts), token or "")
