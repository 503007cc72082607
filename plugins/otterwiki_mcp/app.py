"""The whole MCP ASGI app from settings and a backend: what both the in-wiki mode and the
separate MCP service serve. The approval page asks the wiki, through the backend, who is signed
in and which keys may approve (`accounts`), so it behaves the same in both."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from otterwiki_api.auth import hash_key

from .accounts import visits, wiki_keys
from .approval import Identity
from .auth import AuthParts, build_auth
from .backend import WikiBackend
from .local_oauth import KeyCheck
from .router import OriginRouter
from .server import build_authorization_app, build_http_app
from .settings import McpSettings


def plain_keys(keys: Iterable[str | None]) -> KeyCheck:
    """A key check accepting fixed secrets, which name nobody (the page then asks who you are)."""
    digests = [hash_key(k) for k in keys if k]

    def check(key: str) -> Identity | None:
        presented = hash_key(key)
        ok = False
        for expected in digests:
            ok |= hmac.compare_digest(expected, presented)
        return Identity() if ok and key else None

    return check


def approving_keys(backend: WikiBackend, approval_key: str | None) -> KeyCheck:
    """The wiki's write-scope API keys (their author the default identity), and the approval
    key if one is set (it names nobody)."""
    plain, wiki = plain_keys([approval_key]), wiki_keys(backend)
    return lambda key: plain(key) or wiki(key)


def build_asgi(settings: McpSettings, backend: WikiBackend, issues: bool = False) -> OriginRouter:
    """`issues`: this is the wiki's own process, which in wiki mode is the authorization server;
    with WIKIBOT_MCP_ENABLED off there it serves only that (the MCP endpoint is elsewhere)."""
    keys = approving_keys(backend, settings.approval_key)
    parts = AuthParts(settings, keys, visits(backend), issues=issues)
    if issues and not settings.enabled:  # the separate app ignores WIKIBOT_MCP_ENABLED
        return OriginRouter(
            lambda origin: build_auth(parts, origin),
            lambda origin, auth: build_authorization_app(auth, settings),
            settings,
        )
    return OriginRouter(
        lambda origin: build_auth(parts, origin),
        lambda origin, auth: build_http_app(backend, auth, settings),
        settings,
    )
