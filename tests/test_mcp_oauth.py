"""Authentication as real clients meet it: the OAuth flow Claude.ai performs against `wikibot serve`
and `wikibot serve --direct` (local provider, driven by the MCP SDK's OAuth client), refresh and
restart, static tokens, the approval page, and AuthKit tokens checked against a JWKS served on
127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from conftest import KEYS, git, last_author
from mcp_helpers import (
    INITIALIZE,
    MCP_HEADERS,
    REDIRECT_URI,
    JwksServer,
    Uvicorn,
    WikiServe,
    approve,
    pkce,
    run,
    tool,
)

SERVE_KEY = "serve-api-key-for-tests"
SERVE_TOKEN = "serve-static-token"
CODY = ("Cody Code", "cody@example.org")
CLAIRE = ("Claire Claude", "claire@example.org")


class MemoryTokens:
    """The MCP SDK client's TokenStorage, in memory (what a client keeps between calls)."""

    def __init__(self) -> None:
        self.tokens: Any = None
        self.client: Any = None

    async def get_tokens(self) -> Any:
        return self.tokens

    async def set_tokens(self, tokens: Any) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> Any:
        return self.client

    async def set_client_info(self, client_info: Any) -> None:
        self.client = client_info


def claude_like_client(mcp_url: str, storage: MemoryTokens, approver: dict[str, str]) -> Any:
    """The MCP SDK's OAuth client as Claude.ai uses it: dynamic registration as a public client
    with Claude's callback URL. 'The browser' opens the authorization URL and the person approves
    on the approval page; the callback receives the code."""
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

    seen: dict[str, str] = {}

    async def redirect_handler(authorization_url: str) -> None:
        seen["authorization_url"] = authorization_url
        done = approve(authorization_url, approver["key"], approver["name"], approver["email"])
        assert done.status_code == 303, done.text
        answer = parse_qs(urlsplit(done.headers["Location"]).query)
        seen["code"], seen["state"] = answer["code"][0], answer["state"][0]

    async def callback_handler() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=seen["code"], state=seen["state"])

    metadata = OAuthClientMetadata(
        client_name="Claude",
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    provider = OAuthClientProvider(mcp_url, metadata, storage, redirect_handler, callback_handler)
    provider.seen = seen  # type: ignore[attr-defined]
    return provider


async def _oauth_write(mcp_url: str, provider: Any, path: str) -> Any:
    from fastmcp import Client

    async with Client(mcp_url, auth=provider) as client:
        return await client.call_tool("write_note", {"path": path, "content": "# Via OAuth\n"})


@pytest.fixture(params=[(), ("--direct",)], ids=["gateway", "direct"])
def serve(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[WikiServe]:
    """`wikibot serve` as deployed (the MCP function, its HTTP backend reaching the REST API
    through the gateway) and `--direct` (the wiki's own /mcp, in-process backend)."""
    env = {
        "WIKIBOT_API_KEY": SERVE_KEY,
        "WIKIBOT_MCP_TOKEN": SERVE_TOKEN,
        "WIKIBOT_MCP_TOKEN_AUTHOR": f"{CODY[0]} <{CODY[1]}>",
    }
    server = WikiServe(str(tmp_path / "data"), env, *request.param).start()
    yield server
    server.stop()


def _refresh(base: str, client_id: str, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return requests.post(base + "/token", data=form, timeout=10)


def _initialize(url: str, token: str) -> int:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return requests.post(url + "/mcp", json=INITIALIZE, headers=headers, timeout=10).status_code


def test_claude_ai_flow_against_wikibot_serve(serve: WikiServe) -> None:
    repo = serve.data_dir + "/repository"
    log = open(serve.log, encoding="utf-8").read()
    assert f"MCP       {serve.url}/mcp" in log

    # 401 -> protected-resource metadata -> AS metadata -> registration -> authorize (PKCE)
    # -> approval page -> token -> the tool call, all driven by the SDK's OAuth client
    storage = MemoryTokens()
    approver = {"key": SERVE_KEY, "name": CLAIRE[0], "email": CLAIRE[1]}
    provider = claude_like_client(serve.url + "/mcp", storage, approver)
    result = run(_oauth_write(serve.url + "/mcp", provider, "Claude/Note"))
    assert result.structured_content["created"] is True
    assert last_author(repo, "claude/note.md") == CLAIRE

    query = parse_qs(urlsplit(provider.seen["authorization_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert storage.client.client_id and storage.tokens.refresh_token
    first = storage.tokens

    # refresh: a new pair; the old refresh token and its access token stop working
    refreshed = _refresh(serve.url, storage.client.client_id, first.refresh_token)
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    used = _refresh(serve.url, storage.client.client_id, first.refresh_token)
    assert used.status_code == 400 and used.json()["error"] == "invalid_grant"  # RFC 6749 5.2
    assert _initialize(serve.url, first.access_token) == 401
    assert _initialize(serve.url, second["access_token"]) == 200

    # the state database keeps digests only: nothing in it can be presented as a token
    stored = b"".join(
        open(serve.data_dir + "/mcp-oauth.sqlite3" + suffix, "rb").read()
        for suffix in ("", "-wal")
        if os.path.exists(serve.data_dir + "/mcp-oauth.sqlite3" + suffix)
    )
    assert (
        b'"client_id"' in stored
        and hashlib.sha256(second["access_token"].encode()).hexdigest().encode() in stored
    )
    assert second["access_token"].encode() not in stored
    assert second["refresh_token"].encode() not in stored

    # a restart keeps clients and tokens (WIKIBOT_MCP_STATE_PATH in the data folder)
    serve.stop()
    serve.start()
    again = tool(
        serve.url + "/mcp", second["access_token"], "write_note", path="Claude/After", content="y"
    )
    assert again["created"] is True
    assert last_author(repo, "claude/after.md") == CLAIRE
    assert _refresh(serve.url, storage.client.client_id, second["refresh_token"]).ok

    # the static token from WIKIBOT_MCP_TOKEN works alongside OAuth, as its configured author
    static = tool(serve.url + "/mcp", SERVE_TOKEN, "write_note", path="Code/Note", content="x")
    assert static["created"] is True
    assert last_author(repo, "code/note.md") == CODY


def _start_authorization(base: str) -> str:
    client = requests.post(
        base + "/register", json={"redirect_uris": [REDIRECT_URI], "client_name": "t"}, timeout=10
    ).json()
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{base}/authorize?{urlencode(query)}"


def test_approval_page_refuses_bad_keys_and_can_deny(live_url: str) -> None:
    wrong = approve(_start_authorization(live_url), "not-a-key")
    assert wrong.status_code == 403 and "not accepted" in wrong.text
    assert wrong.headers["X-Frame-Options"] == "DENY"
    read_only = approve(_start_authorization(live_url), KEYS["read"])
    assert read_only.status_code == 403

    denied = approve(_start_authorization(live_url), "", action="deny")
    assert denied.status_code == 303
    answer = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert answer["error"] == ["access_denied"] and answer["state"] == ["s1"]

    # the write key's own author is the identity when none is typed in
    done = approve(_start_authorization(live_url), KEYS["write"])
    assert done.status_code == 303 and "code=" in done.headers["Location"]
    unknown = requests.get(live_url + "/oauth/approve?request=nope", timeout=10)
    assert unknown.status_code == 400


def test_authorize_refuses_unknown_clients_and_redirects(live_url: str) -> None:
    bad_client = _start_authorization(live_url).replace("client_id=", "client_id=x")
    assert requests.get(bad_client, allow_redirects=False, timeout=10).status_code == 400
    bad_redirect = _start_authorization(live_url).replace("claude.ai", "evil.example")
    assert requests.get(bad_redirect, allow_redirects=False, timeout=10).status_code == 400


# -- AuthKit -----------------------------------------------------------------------------------
def _rsa() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: Any, kid: str) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()

    def b64(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": b64(numbers.n),
        "e": b64(numbers.e),
    }


def _jwt(key: Any, kid: str, claims: dict[str, Any]) -> str:
    import jwt

    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def authkit(live_url: str) -> Iterator[dict[str, Any]]:
    """AuthKit on 127.0.0.1 (a JWKS with the test's key) and the MCP app trusting it, with an
    admin key as README requires of the separate app (so commits carry the signed-in user)."""
    from otterwiki_mcp.standalone import create_app

    key = _rsa()
    with JwksServer({"keys": [_jwk(key, "k1")]}) as idp:
        app = create_app(
            {
                "WIKIBOT_MCP_AUTH": "authkit",
                "WIKIBOT_MCP_AUTHKIT_DOMAIN": idp.url,
                "WIKIBOT_API_URL": live_url,
                "WIKIBOT_API_KEY": KEYS["admin"],
            }
        )
        with Uvicorn(app) as server:
            yield {"key": key, "issuer": idp.url, "url": server.url}


def _claims(authkit: dict[str, Any], **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": authkit["issuer"],
        "sub": "user_01TEST",
        "email": "kit@example.org",
        "aud": authkit["url"] + "/mcp",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(changes)
    return claims


def test_authkit_metadata_names_authkit(authkit: dict[str, Any]) -> None:
    response = requests.post(authkit["url"] + "/mcp", json={}, timeout=10)
    assert response.status_code == 401
    assert "oauth-protected-resource/mcp" in response.headers["WWW-Authenticate"]
    resource = requests.get(
        authkit["url"] + "/.well-known/oauth-protected-resource/mcp", timeout=10
    ).json()
    assert resource["resource"] == authkit["url"] + "/mcp"
    assert [s.rstrip("/") for s in resource["authorization_servers"]] == [authkit["issuer"]]


def test_authkit_valid_token_is_accepted(authkit: dict[str, Any]) -> None:
    token = _jwt(authkit["key"], "k1", _claims(authkit))
    assert _initialize(authkit["url"], token) == 200
    listing = tool(authkit["url"] + "/mcp", token, "list_notes", limit=1)
    assert listing["total"] >= 1


def test_authkit_writes_are_committed_as_the_signed_in_user(
    authkit: dict[str, Any], repo: str, unique: str
) -> None:
    """README: the separate app's key is an admin key "so commits carry the signed-in user":
    each AuthKit user's writes are theirs (name and email claims; the email alone when the JWT
    template adds no name), never the key's owner's."""
    url = authkit["url"] + "/mcp"
    kit = _jwt(authkit["key"], "k1", _claims(authkit, name="Kit Walker"))
    lee = _jwt(authkit["key"], "k1", _claims(authkit, sub="user_02LEE", email="lee@example.org"))
    path, filename = f"{unique}/Kit", f"{unique.lower()}/kit.md"

    created = tool(url, kit, "write_note", path=path, content="# Kit\n\nfirst\n")
    assert created.get("created") is True, created
    assert last_author(repo, filename) == ("Kit Walker", "kit@example.org")

    edited = tool(
        url,
        lee,
        "edit_note",
        path=path,
        old_string="first",
        new_string="second",
        revision=created["revision"],
    )
    assert "error" not in edited, edited
    assert tool(url, kit, "read_note", path=path)["content"] == "# Kit\n\nsecond\n"

    # the whole history of the note: the two users, never the admin key's own author
    history = git(repo, "log", "--format=%an|%ae", "--", filename).splitlines()
    assert history == ["lee@example.org|lee@example.org", "Kit Walker|kit@example.org"]


@pytest.mark.parametrize(
    "bad",
    ["wrong audience", "wrong issuer", "expired", "bad signature", "unknown key"],
)
def test_authkit_bad_tokens_are_rejected(authkit: dict[str, Any], bad: str) -> None:
    key, kid, claims = authkit["key"], "k1", _claims(authkit)
    if bad == "wrong audience":
        claims["aud"] = "https://other.example.org/mcp"
    elif bad == "wrong issuer":
        claims["iss"] = "https://evil.authkit.app"
    elif bad == "expired":
        claims["exp"] = int(time.time()) - 60
    elif bad == "bad signature":
        key = _rsa()
    else:
        key, kid = _rsa(), "k2"
    assert _initialize(authkit["url"], _jwt(key, kid, claims)) == 401
