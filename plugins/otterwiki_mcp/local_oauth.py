"""A self-contained OAuth 2.1 authorization server for self-hosting (WIKIBOT_MCP_AUTH=local).

The MCP SDK's handlers (through FastMCP's OAuthProvider) do the protocol: metadata, dynamic
client registration, /authorize with PKCE, /token with the authorization-code and refresh grants,
revocation. This class keeps their state in an OAuthStore and adds one thing: /authorize sends the
person to an approval page, where a key the wiki accepts proves they may grant access and their
name and email become the identity (the git author) of every token issued from that approval.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastmcp.server.auth import AccessToken, OAuthProvider
from mcp.server.auth.handlers import revoke
from mcp.server.auth.provider import (
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    RegistrationError,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from otterwiki_api.auth import hash_key
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import approval, authorised, csrf, pages
from .accounts import Visit, VisitCheck
from .approval import CLIENTS_PATH, Identity
from .attempts import Attempts, address_key
from .identity import identity_claims
from .oauth_errors import ClientErrors
from .oauth_store import OAuthStore, Transaction
from .pages import SiteLook, span

APPROVAL_PATH = "/oauth/approve"
PENDING_TTL = 600
CODE_TTL = 300
KeyCheck = Callable[[str], Identity | None]
"""The identity behind a key the wiki accepts for approving (parts may be None), else None."""


class _RevocationRequest(revoke.RevocationRequest):
    """RFC 7009 lets a public client (every MCP client registers as one) revoke with its
    client_id alone; the SDK's model declares `client_secret: str | None` without a default, so
    pydantic requires the field and /revoke answered such a client 400 "client_secret: Field
    required" (modelcontextprotocol/python-sdk PR #3512)."""

    client_secret: str | None = None


revoke.RevocationRequest = _RevocationRequest  # type: ignore[misc]


MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
MAX_NAME_LENGTH = 200
UNUSED_CLIENT_TTL = 30 * 86400  # a registration no token was issued for in 30 days goes
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# schemes a browser runs or reads locally: never somewhere to send a code
REFUSED_SCHEMES = ("javascript", "data", "file", "vbscript", "blob", "about", "ftp", "ws", "wss")
KEY_TRIES = 5  # wrong keys one approval request takes before it is cancelled


def check_registration(client: OAuthClientInformationFull) -> None:
    """Refuse what no MCP client needs: redirect URIs that are plain http off loopback or a
    scheme a browser runs or reads locally (javascript:, data:, file:...), many or long URIs,
    long names. https, loopback http and an app's own scheme (cursor://...) are what RFC 8252
    and the MCP authorization spec allow."""
    uris = [str(u) for u in client.redirect_uris or []]
    if not uris or len(uris) > MAX_REDIRECT_URIS:
        raise RegistrationError(
            "invalid_redirect_uri", f"give 1 to {MAX_REDIRECT_URIS} redirect_uris"
        )
    for uri in uris:
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        loopback = scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS
        private_use = scheme not in ("http", "https", *REFUSED_SCHEMES)  # an app's own (8252 7.1)
        if len(uri) > MAX_URI_LENGTH or not (scheme == "https" or loopback or private_use):
            raise RegistrationError(
                "invalid_redirect_uri",
                "redirect URIs must be https, http on localhost/127.0.0.1/[::1], or an app's own "
                f"scheme (not {', '.join(REFUSED_SCHEMES)}), at most {MAX_URI_LENGTH} characters",
            )
    for field in ("client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri", "scope"):
        value = getattr(client, field, None)
        limit = MAX_NAME_LENGTH if field == "client_name" else MAX_URI_LENGTH
        if value is not None and len(str(value)) > limit:
            raise RegistrationError(
                "invalid_client_metadata", f"{field} is longer than {limit} characters"
            )


async def _form(request: Request) -> dict[str, str]:
    if request.method != "POST":
        return {}
    return {k: str(v) for k, v in (await request.form()).items()}


def same_site(request: Request) -> bool:
    """False for a request the browser says another site made (Fetch Metadata); browsers that
    do not say rely on the form's token alone."""
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


class LocalOAuthProvider(OAuthProvider):
    def __init__(
        self,
        *,
        base_url: str,
        store: OAuthStore,
        check_key: KeyCheck,
        access_token_ttl: int = 3600,
        refresh_token_ttl: int = 30 * 86400,
        visit: VisitCheck = lambda cookie: Visit(),
        attempts: Attempts | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            client_registration_options=ClientRegistrationOptions(enabled=True),
            revocation_options=RevocationOptions(enabled=True),
        )
        self.store = store
        self.check_key = check_key
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.visit = visit
        self.attempts = attempts or Attempts(store)

    # -- clients -------------------------------------------------------------------------------
    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        data = self.store.get("clients", client_id)
        return OAuthClientInformationFull.model_validate(data) if data else None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        """Registration is open to anyone (that is how MCP clients connect), so it is bounded:
        redirect URIs as RFC 8252 and the MCP authorization spec allow them, short names, few
        URIs; registrations nobody used for `UNUSED_CLIENT_TTL` go when a new one comes."""
        if not client_info.client_id:
            raise ValueError("client_id is required")
        check_registration(client_info)
        with self.store.transaction() as tx:
            tx.drop_unused_clients(time.time() - UNUSED_CLIENT_TTL)
            tx.put(
                "clients",
                client_info.client_id,
                client_info.model_dump(mode="json", exclude_none=True),
            )

    # -- authorization: the approval page stands between /authorize and the code ----------------
    def _check_resource(self, resource: str | None) -> None:
        if resource and self._resource_url is not None:
            if resource.rstrip("/") != str(self._resource_url).rstrip("/"):
                raise AuthorizeError("invalid_target", f"unknown resource {resource}")

    def _resource(self) -> str | None:
        return str(self._resource_url).rstrip("/") if self._resource_url is not None else None

    def _issued_here(self, resource: str | None) -> bool:
        """A token is for the resource it was issued for (RFC 8707): one app serves several
        origins from one token store, and a token of one is no token at another."""
        ours = self._resource()
        return ours is None or (resource or "").rstrip("/") == ours

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        self._check_resource(params.resource)
        request_id = secrets.token_urlsafe(24)
        with self.store.transaction() as tx:
            tx.put(
                "pending",
                request_id,
                {
                    "client_id": client.client_id,
                    "state": params.state,
                    "scopes": params.scopes or [],
                    "code_challenge": params.code_challenge,
                    "redirect_uri": str(params.redirect_uri),
                    "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly,
                    "resource": params.resource,
                    "expires_at": time.time() + PENDING_TTL,
                },
            )
        return f"{str(self.base_url).rstrip('/')}{APPROVAL_PATH}?request={request_id}"

    def _live(self, section: str, key: str, client_id: str | None = None) -> dict[str, Any] | None:
        """The unexpired entry under `key` (of `client_id`'s when given), else None."""
        found = self.store.get(section, key)
        if not found or found["expires_at"] < time.time():
            return None
        if client_id is not None and found["client_id"] != client_id:
            return None
        return found

    def _decide(self, request_id: str, identity: Identity | None) -> str | None:
        """Consume the pending request: a redirect carrying a code (approved) or an error."""
        with self.store.transaction() as tx:
            pending = tx.pop("pending", request_id)
            if not pending or pending["expires_at"] < time.time():
                return None
            if identity is None:
                return construct_redirect_uri(
                    pending["redirect_uri"], error="access_denied", state=pending["state"]
                )
            code = secrets.token_urlsafe(32)
            tx.put(
                "codes",
                hash_key(code),
                {
                    **pending,
                    "identity": identity.grant(),
                    "expires_at": time.time() + CODE_TTL,
                },
            )
        return construct_redirect_uri(pending["redirect_uri"], code=code, state=pending["state"])

    async def approval_page(self, request: Request) -> Response:
        """GET shows the page, POST decides. A person signed in to the wiki approves as
        themselves (Allow/Deny); one who is not is sent to the wiki's sign-in and back, unless
        the wiki has no accounts (or they ask for it, `with=key`): then a key approves."""
        form = await _form(request)
        request_id = form.get("request") or request.query_params.get("request", "")
        visit = await anyio.to_thread.run_sync(self.visit, request.headers.get("cookie", ""))
        site = visit.site
        pending = self._live("pending", request_id)
        if pending is None:
            return pages.message(
                "This approval request is unknown or has expired. Start connecting again from "
                "your MCP client.",
                400,
                site,
            )
        req = await self._described(request_id, pending)
        if form.get("action") == "deny":
            target = self._decide(request_id, None)
            return RedirectResponse(target, 303) if target else pages.message("Expired.", 400)
        by_account = request.method == "GET" or form.get("with") == "account"
        if visit.account is not None and by_account:
            return self._account_approval(request, form, req, visit)
        back = f"{APPROVAL_PATH}?request={request_id}"
        sign_in = approval.login_url(site, back) if visit.accounts else None
        if request.method == "GET":
            if sign_in and request.query_params.get("with") != "key":
                return RedirectResponse(sign_in, 303)
            return approval.page(req, site, sign_in=sign_in)
        if form.get("with") == "account":  # signed out (or in elsewhere) since the page showed
            return pages.message("You are not signed in any more: sign in and try again.", 403)
        return await self._key_approval(request, form, req, pending["client_id"], site, sign_in)

    async def _described(self, request_id: str, pending: dict[str, Any]) -> approval.Request:
        client = await self.get_client(pending["client_id"])
        return approval.Request(
            request_id=request_id,
            client_name=(client.client_name if client else None) or pending["client_id"],
            redirect_host=urlsplit(pending["redirect_uri"]).netloc or pending["redirect_uri"],
            access_ttl=self.access_token_ttl,
            refresh_ttl=self.refresh_token_ttl,
        )

    def _account_approval(
        self, request: Request, form: dict[str, str], req: approval.Request, visit: Visit
    ) -> Response:
        """Allow/Deny for the signed-in account; a POST must carry the token of the page this
        account was shown for this request (another site cannot make one)."""
        who, site = visit.account, visit.site
        assert who is not None and who.email
        if not visit.can_read:
            return pages.message(
                f"Your account {who.email} may not read {site.name}, so it cannot give a client "
                "access. Ask the wiki's admin for access.",
                403,
                site,
            )
        secret = self.store.secret("csrf")
        token = csrf.form_token(secret, "approve", req.request_id, who.email)
        if request.method == "GET":
            return approval.account_page(req, site, who, token)
        if not same_site(request) or not csrf.valid(
            secret, form.get("csrf", ""), "approve", req.request_id, who.email
        ):
            error = "This form did not come from this page. Check the request and choose again."
            return approval.account_page(req, site, who, token, error)
        target = self._decide(req.request_id, who)
        if target is None:
            return pages.message("This approval request has expired.", 400, site)
        return RedirectResponse(target, 303)

    async def _key_approval(
        self,
        request: Request,
        form: dict[str, str],
        req: approval.Request,
        client_id: str,
        site: SiteLook,
        sign_in: str | None,
    ) -> Response:
        """A key the wiki accepts approves, under the identity typed in (or the key's). Wrong
        keys count per request, per address and per client (`attempts.py`)."""
        request_id = req.request_id
        address = request.client.host if request.client else "?"
        counted = (address_key(address), f"client:{client_id}")
        wait = math.ceil(await anyio.to_thread.run_sync(lambda: self.attempts.begin(*counted)))
        if wait > 0:  # answered at once: guessing is limited, never slowed by sleeping here
            answer = pages.message(
                "Too many wrong keys from your address or for this client; try again in "
                f"{span(wait)}.",
                429,
                site,
            )
            answer.headers["Retry-After"] = str(wait)
            return answer
        key_identity = await anyio.to_thread.run_sync(self.check_key, form.get("key", ""))
        if key_identity is not None:
            await anyio.to_thread.run_sync(lambda: self.attempts.succeeded(*counted))
        else:
            await anyio.to_thread.run_sync(lambda: self.attempts.failed(*counted))
            if self._count_failure(request_id) >= KEY_TRIES:
                return pages.message(
                    f"{KEY_TRIES} wrong keys: this approval request is cancelled. Start "
                    "connecting again from your MCP client.",
                    429,
                    site,
                )
            error = "That key is not accepted here."
            return approval.page(req, site, sign_in=sign_in, error=error, status=403)
        identity = approval.clean_identity(
            form.get("name", ""), form.get("email", ""), key_identity
        )
        if isinstance(identity, str):
            return approval.page(req, site, sign_in=sign_in, error=identity, status=400)
        target = self._decide(request_id, identity)
        if target is None:
            return pages.message("This approval request has expired.", 400, site)
        return RedirectResponse(target, 303)

    async def clients_page(self, request: Request) -> Response:
        """The signed-in account's authorised clients; POST revokes one (its tokens end)."""
        visit = await anyio.to_thread.run_sync(self.visit, request.headers.get("cookie", ""))
        site, who = visit.site, visit.account
        if who is None or not who.email:
            sign_in = approval.login_url(site, CLIENTS_PATH) if visit.accounts else None
            if sign_in:
                return RedirectResponse(sign_in, 303)
            return pages.message("Sign in to the wiki to see the clients you allowed.", 401, site)
        secret = self.store.secret("csrf")
        token = csrf.form_token(secret, "clients", who.email)
        if request.method == "POST":
            form = await _form(request)
            if not same_site(request) or not csrf.valid(
                secret, form.get("csrf", ""), "clients", who.email
            ):
                return pages.message("This form did not come from this page.", 403, site)
            with self.store.transaction() as tx:
                grant = form.get("grant", "")
                if any(g.get("origin") == grant for g in tx.grants_of(who.email)):
                    tx.drop_grant(grant)
            return RedirectResponse(CLIENTS_PATH, 303)
        with self.store.transaction() as tx:
            grants = tx.grants_of(who.email)
            names = {g["client_id"]: tx.get("clients", g["client_id"]) or {} for g in grants}
        shown = [
            authorised.Grant(
                grant=str(g.get("origin", "")),
                client_name=str(names[g["client_id"]].get("client_name") or g["client_id"]),
                redirect_hosts=[
                    urlsplit(u).netloc or u for u in names[g["client_id"]].get("redirect_uris", [])
                ],
                expires_at=int(g["expires_at"]),
            )
            for g in grants
        ]
        return authorised.page(site, who, shown, token)

    def _count_failure(self, request_id: str) -> int:
        """One more wrong key for this approval request (shared by every process through the
        store); at `KEY_TRIES` the request is gone."""
        with self.store.transaction() as tx:
            pending = tx.pop("pending", request_id)
            if pending is None:
                return KEY_TRIES
            pending["failures"] = pending.get("failures", 0) + 1
            if pending["failures"] < KEY_TRIES:
                tx.put("pending", request_id, pending)
            return int(pending["failures"])

    def get_routes(self, mcp_path: str | None = None) -> list[Route]:
        realm = str(self.base_url).rstrip("/")
        routes = [
            Route(r.path, endpoint=ClientErrors(r.endpoint, realm), methods=list(r.methods or []))
            if r.path in ("/token", "/revoke")
            else r
            for r in super().get_routes(mcp_path)
        ]
        routes.append(Route(APPROVAL_PATH, endpoint=self.approval_page, methods=["GET", "POST"]))
        routes.append(Route(CLIENTS_PATH, endpoint=self.clients_page, methods=["GET", "POST"]))
        return routes

    # -- codes and tokens ----------------------------------------------------------------------
    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        found = self._live("codes", hash_key(authorization_code), client.client_id)
        if found is None:
            return None
        if found.get("used"):  # a code used twice: what it gave is revoked (RFC 6749 4.1.2),
            with self.store.transaction() as tx:  # refreshed pairs included
                tx.drop_grant(hash_key(authorization_code))
            return None
        return AuthorizationCode(
            code=authorization_code,
            scopes=found["scopes"],
            expires_at=found["expires_at"],
            client_id=found["client_id"],
            code_challenge=found["code_challenge"],
            redirect_uri=found["redirect_uri"],
            redirect_uri_provided_explicitly=found["redirect_uri_provided_explicitly"],
            resource=found.get("resource"),
            subject=found["identity"]["email"],
        )

    def _issue(
        self,
        tx: Transaction,
        client_id: str,
        scopes: list[str],
        identity: dict[str, Any],
        resource: str | None,
        origin: str,
    ) -> OAuthToken:
        """A new token pair; `origin` (the hash of the code the grant began with) passes to
        every pair refreshed from it, so a replayed code can end them all."""
        refresh = secrets.token_urlsafe(32)
        now = time.time()
        grant = {
            "client_id": client_id,
            "scopes": scopes,
            "identity": identity,
            "resource": resource or self._resource(),  # a client naming none gets this server
            "origin": origin,
        }
        access = self._new_access_token(tx, grant, hash_key(refresh), now)
        tx.put(
            "refresh",
            hash_key(refresh),
            {
                **grant,
                "access": hash_key(access),
                "expires_at": int(now + self.refresh_token_ttl),
            },
        )
        client = tx.get("clients", client_id)
        if client is not None:  # in use: not an unused registration
            tx.put("clients", client_id, {**client, "last_used": int(now)})
        return OAuthToken(
            access_token=access,
            token_type="Bearer",
            expires_in=self.access_token_ttl,
            refresh_token=refresh,
            scope=" ".join(scopes) or None,
        )

    def _new_access_token(
        self, tx: Transaction, grant: dict[str, Any], refresh_digest: str, now: float
    ) -> str:
        """An opaque access token kept in the store beside its refresh token (the wiki mode
        signs a JWT instead, which the store never sees)."""
        access = secrets.token_urlsafe(32)
        tx.put(
            "access",
            hash_key(access),
            {**grant, "refresh": refresh_digest, "expires_at": int(now + self.access_token_ttl)},
        )
        return access

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        origin = hash_key(authorization_code.code)
        with self.store.transaction() as tx:
            found = tx.get("codes", origin)
            if not found or found["client_id"] != client.client_id:
                token = None
            elif found.get("used"):  # a second exchange that raced past the load: the code
                tx.drop_grant(origin)  # was used twice, so what it gave ends (committed here)
                token = None
            else:
                tx.put("codes", origin, {**found, "used": True})  # kept: a second use revokes
                token = self._issue(
                    tx,
                    found["client_id"],
                    found["scopes"],
                    found["identity"],
                    found.get("resource"),
                    origin,
                )
        if token is None:
            raise TokenError("invalid_grant", "authorization code not found or already used")
        return token

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        found = self._live("refresh", hash_key(refresh_token), client.client_id)
        if found is None:
            return None
        return RefreshToken(
            token=refresh_token,
            client_id=found["client_id"],
            scopes=found["scopes"],
            expires_at=found["expires_at"],
            resource=found.get("resource"),
            subject=found["identity"]["email"],
        )

    async def exchange_refresh_token(
        self,
        client: OAuthClientInformationFull,
        refresh_token: RefreshToken,
        scopes: list[str],
    ) -> OAuthToken:
        with self.store.transaction() as tx:
            found = tx.pop("refresh", hash_key(refresh_token.token))
            if not found or found["client_id"] != client.client_id:
                raise TokenError("invalid_grant", "refresh token not found or already used")
            if not set(scopes) <= set(found["scopes"]):
                raise TokenError("invalid_scope", "more scopes than the original grant")
            tx.pop("access", found.get("access", ""))  # rotation: the old pair ends
            return self._issue(
                tx,
                found["client_id"],
                scopes or found["scopes"],
                found["identity"],
                found.get("resource"),
                found.get("origin", ""),
            )

    async def load_access_token(self, token: str) -> AccessToken | None:  # type: ignore[override]
        found = self._live("access", hash_key(token))
        if found is None or not self._issued_here(found.get("resource")):
            return None
        identity = found["identity"]
        return AccessToken(
            token=token,
            client_id=found["client_id"],
            scopes=found["scopes"],
            expires_at=found["expires_at"],
            resource=found.get("resource"),
            subject=identity["email"],
            claims=identity_claims(identity),
        )

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        with self.store.transaction() as tx:
            key = hash_key(token.token)
            for section, partner in (("access", "refresh"), ("refresh", "access")):
                entry = tx.pop(section, key)
                if entry:  # each entry names its partner's digest under the partner's section
                    tx.pop(partner, entry.get(partner, ""))
