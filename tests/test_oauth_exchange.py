"""The local provider's code exchange checks the code again inside its own transaction: the MCP
SDK's /token handler loads the code (`load_authorization_code`) and then exchanges it, so two
requests carrying one code can both pass the load before either exchange runs. These tests call
the provider the way that handler does, on an OAuthStore in a SQLite file, with a code made by
the real approval page (a key the provider accepts)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from mcp.server.auth.provider import AuthorizationCode, AuthorizationParams, TokenError
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp_helpers import REDIRECT_URI, pkce, run
from otterwiki_mcp.approval import Identity
from otterwiki_mcp.local_oauth import LocalOAuthProvider
from otterwiki_mcp.oauth_store import OAuthStore
from starlette.requests import Request

BASE = "http://127.0.0.1:8780"
KEY = "exchange-approval-key-0123456789"


def accept(key: str) -> Identity | None:
    return Identity(name="Ada Approver", email="ada@example.org") if key == KEY else None


@pytest.fixture
def provider(tmp_path: Any) -> LocalOAuthProvider:
    made = LocalOAuthProvider(
        base_url=BASE, store=OAuthStore(str(tmp_path / "oauth.db")), check_key=accept
    )
    made.set_mcp_path("/mcp")  # as get_routes does: tokens are for this server's /mcp
    return made


def client(provider: LocalOAuthProvider, client_id: str) -> OAuthClientInformationFull:
    info = OAuthClientInformationFull(
        client_id=client_id,
        client_name="pytest",
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    run(provider.register_client(info))
    return info


def post(url: str, form: dict[str, str]) -> Request:
    """A browser's form POST to `url`, as Starlette hands it to an endpoint."""
    body = urlencode(form).encode()
    parts = urlsplit(url)
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": parts.scheme,
        "server": (parts.hostname, parts.port),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [
            (b"host", parts.netloc.encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def approved_code(provider: LocalOAuthProvider, info: OAuthClientInformationFull) -> str:
    """/authorize, then the approval page approving with the key: the code its redirect holds."""
    _, challenge = pkce()
    params = AuthorizationParams(
        state="s",
        scopes=[],
        code_challenge=challenge,
        redirect_uri=REDIRECT_URI,
        redirect_uri_provided_explicitly=True,
    )
    page = run(provider.authorize(info, params))
    request_id = parse_qs(urlsplit(page).query)["request"][0]
    answer = run(provider.approval_page(post(page, {"request": request_id, "key": KEY})))
    assert answer.status_code == 303, answer.body
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def loaded(
    provider: LocalOAuthProvider, info: OAuthClientInformationFull, code: str
) -> AuthorizationCode:
    found = run(provider.load_authorization_code(info, code))
    assert found is not None
    return found


def works(provider: LocalOAuthProvider, info: OAuthClientInformationFull, pair: OAuthToken) -> bool:
    """Whether the pair's access token is accepted and its refresh token can be loaded."""
    access = run(provider.load_access_token(pair.access_token))
    assert pair.refresh_token is not None
    refresh = run(provider.load_refresh_token(info, pair.refresh_token))
    assert (access is None) == (refresh is None)
    return access is not None


def test_a_code_exchanged_twice_after_one_load_gives_tokens_once(
    provider: LocalOAuthProvider,
) -> None:
    """Two token requests with one code, both past the load before either exchange: the second
    is refused (invalid_grant), issues nothing, and (a code used twice, RFC 6749 4.1.2) ends
    what the first was given."""
    alice = client(provider, "client-alice")
    code = approved_code(provider, alice)
    both = loaded(provider, alice, code)  # what each racing request got from the load
    first = run(provider.exchange_authorization_code(alice, both))
    assert works(provider, alice, first)
    with pytest.raises(TokenError) as refused:
        run(provider.exchange_authorization_code(alice, both))
    assert refused.value.error == "invalid_grant"
    assert not works(provider, alice, first)
    assert run(provider.load_authorization_code(alice, code)) is None  # and it stays used


def test_a_code_exchanged_by_another_client_is_refused(provider: LocalOAuthProvider) -> None:
    """A code loaded for one client and exchanged by another (the exchange's own client check,
    behind the load's) is refused with invalid_grant and gives that client nothing."""
    alice, mallory = client(provider, "client-alice"), client(provider, "client-mallory")
    code = approved_code(provider, alice)
    assert run(provider.load_authorization_code(mallory, code)) is None  # the load's check
    with pytest.raises(TokenError) as refused:
        run(provider.exchange_authorization_code(mallory, loaded(provider, alice, code)))
    assert refused.value.error == "invalid_grant"


def test_a_refresh_token_used_twice_after_one_load_is_refused_and_a_bad_scope_keeps_it(
    provider: LocalOAuthProvider,
) -> None:
    """The refresh exchange's refusals are the SDK's TokenError (400 at /token), not an error
    of the transaction around them; a refused scope leaves the refresh token usable."""
    alice = client(provider, "client-alice")
    pair = run(
        provider.exchange_authorization_code(
            alice, loaded(provider, alice, approved_code(provider, alice))
        )
    )
    assert pair.refresh_token is not None
    refresh = run(provider.load_refresh_token(alice, pair.refresh_token))
    assert refresh is not None
    with pytest.raises(TokenError) as wider:
        run(provider.exchange_refresh_token(alice, refresh, ["wiki:read", "admin"]))
    assert wider.value.error == "invalid_scope"
    renewed = run(provider.exchange_refresh_token(alice, refresh, []))
    assert works(provider, alice, renewed) and not works(provider, alice, pair)
    with pytest.raises(TokenError) as again:  # the same loaded token, racing the first
        run(provider.exchange_refresh_token(alice, refresh, []))
    assert again.value.error == "invalid_grant"
