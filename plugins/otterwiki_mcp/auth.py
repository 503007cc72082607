"""The auth provider the configuration asks for, built for one public origin.

`local`: LocalOAuthProvider (our own authorization server). `authkit`: FastMCP's AuthKitProvider,
which verifies WorkOS AuthKit JWTs against the AuthKit JWKS with the audience bound to this
server's resource URL. `tokens`: static bearer tokens only. Static tokens, when configured, are
accepted alongside either OAuth mode (MultiAuth).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastmcp.server.auth import AuthProvider, MultiAuth

from .accounts import Visit, VisitCheck
from .local_oauth import Attempts, KeyCheck, LocalOAuthProvider
from .oauth_store import OAuthStore
from .settings import McpSettings
from .tokens import HashedTokenVerifier


@dataclass
class AuthParts:
    """What every origin's provider shares: the settings, the local server's state, the key
    check and the wiki's answer to who a browser is for its approval page, and the count of
    wrong keys per address (one count whatever Host header a guesser sends)."""

    settings: McpSettings
    check_key: KeyCheck
    visit: VisitCheck = lambda cookie: Visit()  # noqa: E731 - a wiki without accounts
    store: OAuthStore | None = None
    attempts: Attempts = field(default_factory=Attempts)

    def __post_init__(self) -> None:
        if self.settings.auth == "local" and self.store is None:
            self.store = OAuthStore(self.settings.state_path)


def build_auth(parts: AuthParts, origin: str) -> AuthProvider:
    settings = parts.settings
    server: AuthProvider | None = None
    if settings.auth == "local":
        assert parts.store is not None
        server = LocalOAuthProvider(
            base_url=origin,
            store=parts.store,
            check_key=parts.check_key,
            access_token_ttl=settings.access_token_ttl,
            refresh_token_ttl=settings.refresh_token_ttl,
            visit=parts.visit,
            attempts=parts.attempts,
        )
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
