"""The whole MCP ASGI app from settings, a backend and the approval-key check: what both the
in-wiki mode and the separate MCP service serve."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from otterwiki_api.auth import hash_key

from .approval import Identity
from .auth import AuthParts, build_auth
from .backend import WikiBackend
from .local_oauth import KeyCheck
from .router import OriginRouter
from .server import build_http_app
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


def build_asgi(
    settings: McpSettings,
    backend: WikiBackend,
    check_key: KeyCheck,
    site_name: str = "the wiki",
) -> OriginRouter:
    parts = AuthParts(settings, check_key, site_name=site_name)
    return OriginRouter(
        lambda origin: build_auth(parts, origin),
        lambda origin, auth: build_http_app(backend, auth, settings),
        settings,
    )
