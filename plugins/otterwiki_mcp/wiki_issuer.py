"""The wiki as the authorization server of a deployed MCP function (WIKIBOT_MCP_AUTH=wiki).

The local OAuth server, run by the wiki (which has its users and, deployed, EFS for its state),
with one change: access tokens are short-lived JWTs signed with the wiki's key ring, bound to
the MCP resource URL (`aud`) and naming the approver (`identity_claims`). Anything that knows the
wiki's published keys can verify them, so the MCP function shares no mutable state with the
wiki. Refresh tokens stay opaque, in the wiki's store: only the wiki renews or revokes access.

Revocation and a replayed code end the refresh tokens at once; the access tokens already out
stay valid until they expire (`WIKIBOT_MCP_ACCESS_TOKEN_TTL`, 10 minutes by default).
"""

from __future__ import annotations

import secrets
from typing import Any

from fastmcp.server.auth import AccessToken
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .identity import identity_claims
from .local_oauth import LocalOAuthProvider
from .oauth_store import Transaction
from .signing import KeyRing
from .wiki_tokens import JWKS_PATH, RingTokens

RESOURCE_METADATA = "/.well-known/oauth-protected-resource"
JWKS_MAX_AGE = 60  # seconds a client may keep the key set (well below the retired keys' time)


class WikiIssuer(LocalOAuthProvider):
    """`keys` sign the access tokens; `serves_resource`: this app serves the MCP endpoint too
    (the wiki's own /mcp), else the protected-resource metadata is the MCP function's."""

    def __init__(self, *, keys: KeyRing, serves_resource: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys = keys
        self.serves_resource = serves_resource
        self._tokens: RingTokens | None = None

    def issuer(self) -> str:
        return str(self.base_url).rstrip("/")

    def _new_access_token(
        self, tx: Transaction, grant: dict[str, Any], refresh_digest: str, now: float
    ) -> str:
        claims = {
            **identity_claims(grant["identity"]),
            "iss": self.issuer(),
            "client_id": grant["client_id"],
            "scope": " ".join(grant["scopes"]),
            "iat": int(now),
            "exp": int(now + self.access_token_ttl),
            "jti": secrets.token_urlsafe(12),
        }
        if grant.get("resource"):
            claims["aud"] = grant["resource"]
        return self.keys.current(now).sign(claims)

    async def load_access_token(self, token: str) -> AccessToken | None:  # type: ignore[override]
        if self._tokens is None:
            self._tokens = RingTokens(self.keys, self.issuer(), self._resource())
        return await self._tokens.load_access_token(token)

    async def jwks(self, request: Request) -> JSONResponse:
        """The public keys tokens are verified with: the current one and those retired
        recently enough that tokens they signed may still be valid."""
        headers = {"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"}
        return JSONResponse(self.keys.jwks(), headers=headers)

    def get_routes(self, mcp_path: str | None = None) -> list[Route]:
        routes = [
            r
            for r in super().get_routes(mcp_path)
            if self.serves_resource or not r.path.startswith(RESOURCE_METADATA)
        ]
        routes.append(Route(JWKS_PATH, endpoint=self.jwks, methods=["GET"]))
        return routes
