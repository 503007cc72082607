"""The auth provider the configuration asks for, built for one public origin.

`local`: LocalOAuthProvider (our own authorization server). `authkit`: FastMCP's AuthKitProvider,
which verifies WorkOS AuthKit JWTs against the AuthKit JWKS with the audience bound to this
server's resource URL. `tokens`: static bearer tokens only. `wiki`: in the wiki's own process
(`AuthParts.issues`) the local server issuing JWTs (WikiIssuer); in the separate MCP service a
verifier of those JWTs against the wiki's JWKS, naming the wiki as authorization server. Static
tokens, when configured, are accepted alongside any OAuth mode (MultiAuth).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastmcp.server.auth import AuthProvider, MultiAuth

from .accounts import Visit, VisitCheck
from .attempts import Attempts
from .local_oauth import KeyCheck, LocalOAuthProvider
from .oauth_store import OAuthStore
from .settings import McpSettings
from .signing import KeyRing
from .tokens import HashedTokenVerifier

KEYS_FILE = "mcp-signing-keys.json"
ROTATION_MARGIN = 600  # seconds a retired key outlives the last token it can have signed


def key_ring(settings: McpSettings) -> KeyRing:
    """The wiki's signing keys: WIKIBOT_MCP_KEYS_PATH, else beside the OAuth state (on EFS
    when deployed), else in memory."""
    path = settings.keys_path
    if path is None and settings.state_path:
        path = os.path.join(os.path.dirname(os.path.abspath(settings.state_path)), KEYS_FILE)
    return KeyRing(
        path,
        rotate_after=settings.key_rotation_days * 86400,
        keep_retired=settings.access_token_ttl + ROTATION_MARGIN,
    )


@dataclass
class AuthParts:
    """What every origin's provider shares: the settings, the local server's state, the key
    check and the wiki's answer to who a browser is for its approval page, and the count of
    wrong keys per address and client (in the store: one count whatever Host header a guesser
    sends, and whichever process it reaches)."""

    settings: McpSettings
    check_key: KeyCheck
    visit: VisitCheck = lambda cookie: Visit()  # noqa: E731 - a wiki without accounts
    store: OAuthStore | None = None
    attempts: Attempts | None = None
    issues: bool = False  # the wiki's own process: in wiki mode, the authorization server
    keys: KeyRing | None = None

    def __post_init__(self) -> None:
        if self.runs_server and self.store is None:
            self.store = OAuthStore(self.settings.state_path)
        if self.store is not None and self.attempts is None:
            self.attempts = Attempts(self.store)
        if self.settings.auth == "wiki" and self.issues and self.keys is None:
            self.keys = key_ring(self.settings)

    @property
    def runs_server(self) -> bool:
        """Whether this process is an authorization server (and keeps its state)."""
        return self.settings.auth == "local" or (self.settings.auth == "wiki" and self.issues)


def _local_server(parts: AuthParts, origin: str) -> AuthProvider:
    """The local OAuth server for `origin`; in wiki mode the one issuing JWTs."""
    settings = parts.settings
    assert parts.store is not None
    common = {
        "base_url": origin,
        "store": parts.store,
        "check_key": parts.check_key,
        "access_token_ttl": settings.access_token_ttl,
        "refresh_token_ttl": settings.refresh_token_ttl,
        "visit": parts.visit,
        "attempts": parts.attempts,
    }
    if settings.auth != "wiki":
        return LocalOAuthProvider(**common)
    from .wiki_issuer import WikiIssuer

    assert parts.keys is not None
    return WikiIssuer(keys=parts.keys, serves_resource=settings.enabled, **common)


def build_auth(parts: AuthParts, origin: str) -> AuthProvider:
    settings = parts.settings
    server: AuthProvider | None = None
    if parts.runs_server:
        server = _local_server(parts, origin)
    elif settings.auth == "wiki":
        from .wiki_tokens import JWKS_PATH, resource_server

        jwks = settings.jwks_url or f"{settings.api_url or origin}{JWKS_PATH}"
        server = resource_server(jwks, origin, settings.path)
    elif settings.auth == "authkit":
        assert settings.authkit_domain
        # imported here: the WorkOS provider and FastMCP's OAuth proxy under it take ~0.3 s
        # of every cold start of the other modes (benchmarks/bench_lambda.py)
        from fastmcp.server.auth.providers.workos import AuthKitProvider

        server = AuthKitProvider(authkit_domain=settings.authkit_domain, base_url=origin)
    static = HashedTokenVerifier(settings.static_tokens) if settings.static_tokens else None
    if server is not None and static is not None:
        return MultiAuth(server=server, verifiers={"static": static})
    if server is not None:
        return server
    if static is None:
        raise ValueError("no MCP authentication configured")
    return static
