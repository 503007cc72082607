"""Static bearer tokens (for Claude Code and scripts), usable alongside either OAuth mode.

Kept as SHA-256 digests and compared in constant time, like the REST API's keys. Each token
carries the git author its commits get.
"""

from __future__ import annotations

import hmac

from fastmcp.server.auth import AccessToken, TokenVerifier
from otterwiki_api.auth import hash_key

from .settings import StaticToken


class HashedTokenVerifier(TokenVerifier):
    """Accepts the configured tokens; the access token's claims name the token's git author."""

    def __init__(self, tokens: tuple[StaticToken, ...]) -> None:
        super().__init__()
        self.tokens = tokens

    async def verify_token(self, token: str) -> AccessToken | None:
        digest = hash_key(token)
        found = None
        for entry in self.tokens:  # no early exit: timing does not tell which token matched
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        if found is None:
            return None
        name, email = found.author
        return AccessToken(
            token=token,
            client_id=f"static:{found.name}",
            scopes=[],
            subject=email,
            claims={"sub": email, "email": email, "name": name},
        )
