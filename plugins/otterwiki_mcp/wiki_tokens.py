"""Verifying the wiki's access tokens (WIKIBOT_MCP_AUTH=wiki): RS256 JWTs for one audience (the
MCP resource URL) from one issuer (the wiki's origin), checked against the wiki's JWKS.

One check for both places a token is presented: the MCP function fetches the JWKS over HTTP from
the wiki (FastMCP's JWTVerifier: cached, fetched again for a key id it does not know); an MCP
endpoint in the wiki itself reads the same keys from its key ring, without a request.
"""

from __future__ import annotations

from typing import Any

from fastmcp.server.auth.providers.jwt import JWTVerifier
from pydantic import AnyHttpUrl

from .signing import ALGORITHM, KeyRing

JWKS_PATH = "/.well-known/jwks.json"
JWKS_CACHE_TTL = 300.0
"""Seconds a fetched JWKS is trusted: a key the wiki stopped publishing (deleted after a leak)
is refused within this time. A key id not in the cache is fetched at once (at most every
`JWKS_RETRY` seconds)."""
JWKS_RETRY = 1.0


class WikiTokens(JWTVerifier):
    """Tokens of the wiki at `issuer` for `audience`, verified against `jwks_url`."""

    def __init__(self, jwks_url: str, issuer: str, audience: str | None) -> None:
        super().__init__(
            jwks_uri=jwks_url,
            issuer=issuer,
            audience=audience,
            algorithm=ALGORITHM,
            jwks_refresh_interval=JWKS_RETRY,
        )
        self._cache_ttl = JWKS_CACHE_TTL


class RingTokens(WikiTokens):
    """The same check in the wiki's own process: the JWKS is read from the key ring."""

    def __init__(self, keys: KeyRing, issuer: str, audience: str | None) -> None:
        super().__init__(f"{issuer}{JWKS_PATH}", issuer, audience)
        self.keys = keys
        self._jwks_refresh_interval = 0.0  # no request: every unknown key id reads the ring

    async def _fetch_jwks(self) -> dict[str, Any]:
        return self.keys.jwks()


def resource_server(jwks_url: str, origin: str, mcp_path: str) -> Any:
    """The MCP function's auth in wiki mode: it verifies the wiki's tokens and names the wiki
    (its own origin: the gateway routes the OAuth paths there) as its authorization server in
    its protected-resource metadata."""
    from fastmcp.server.auth import RemoteAuthProvider

    verifier = WikiTokens(jwks_url, origin, f"{origin}{mcp_path}")
    return RemoteAuthProvider(
        token_verifier=verifier, authorization_servers=[AnyHttpUrl(origin)], base_url=origin
    )
