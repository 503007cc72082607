"""WIKIBOT_MCP_AUTH=wiki: the wiki is the authorization server and signs short-lived JWT access
tokens; the MCP function only verifies them against the wiki's JWKS.

Proved here: the key ring (created once, 0600, shared by processes, rotated with the previous
key still published while its tokens live); the verifier's refusals (another key, expired,
another audience or issuer); the MCP SDK's OAuth client through `wikibot serve` (both Lambda
handlers behind the local gateway, as deployed) and `--direct` (the wiki's own /mcp); key
rotation under a running server; and the route plan sending each OAuth path to the function
that declares it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from conftest import last_author
from mcp_helpers import WikiServe, clean_environment, run
from otterwiki_mcp.signing import KeyRing, SigningKey, new_key
from otterwiki_mcp.wiki_tokens import RingTokens
from test_mcp_oauth import MemoryTokens, _initialize, _refresh, claude_like_client

from wikibot import routeplan

KEY = "wiki-mode-api-key"
WREN = ("Wren Wiki", "wren@example.org")
ISSUER = "https://wiki.example.org"
AUDIENCE = ISSUER + "/mcp"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": WREN[1], "email": WREN[1], "name": WREN[0]}
    return {**base, "iat": now, "exp": now + 600, "scope": "", "client_id": "c", **overrides}


def ring(path: str | None = None, **kw: float) -> KeyRing:
    return KeyRing(path, kw.get("rotate_after", 30 * 86400), kw.get("keep_retired", 1200))


# -- the key ring ---------------------------------------------------------------------------------
def test_the_key_is_created_once_private_and_shared_by_processes(tmp_path: Any) -> None:
    path = str(tmp_path / "keys.json")
    first = ring(path).current()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ring(path).current() == first  # another process (instance) signs with the same key
    jwk = ring(path).jwks()["keys"]
    assert [k["kid"] for k in jwk] == [first.kid] and "d" not in jwk[0]  # public half only


def test_rotation_publishes_the_previous_key_until_its_tokens_have_expired(tmp_path: Any) -> None:
    keys = ring(str(tmp_path / "keys.json"), rotate_after=1000, keep_retired=100)
    old = keys.current(now=10_000)
    assert keys.current(now=10_500) == old
    new = keys.current(now=11_001)  # due: the request that notices writes the next key
    assert new != old
    assert [k.kid for k in keys.published(now=11_050)] == [old.kid, new.kid]
    assert [k.kid for k in keys.published(now=11_102)] == [new.kid]
    newest = keys.rotate(now=11_200)  # a rotation drops keys no longer published
    assert [k.kid for k in ring(keys.path).keys()] == [new.kid, newest.kid]


# -- the verifier ---------------------------------------------------------------------------------
def verify(keys: KeyRing, token: str) -> Any:
    return run(RingTokens(keys, ISSUER, AUDIENCE).load_access_token(token))


def test_a_token_of_the_wiki_is_accepted_with_its_claims() -> None:
    keys = ring()
    found = verify(keys, keys.current().sign(claims(wiki_account=True, wiki_write=False)))
    assert found is not None and found.subject == WREN[1]
    assert found.claims["name"] == WREN[0] and found.claims["wiki_write"] is False


@pytest.mark.parametrize(
    "forge",
    ["another key", "another key, same kid", "expired", "another audience", "another issuer"],
)
def test_tokens_the_wiki_did_not_issue_for_this_server_are_refused(forge: str) -> None:
    keys = ring()
    real = keys.current()
    stranger = new_key()
    token = {
        "another key": lambda: stranger.sign(claims()),
        "another key, same kid": lambda: SigningKey(real.kid, 0, stranger.private_pem).sign(
            claims()
        ),
        "expired": lambda: real.sign(claims(exp=int(time.time()) - 5)),
        "another audience": lambda: real.sign(claims(aud="https://other.example.org/mcp")),
        "another issuer": lambda: real.sign(claims(iss="https://other.example.org")),
    }[forge]()
    assert verify(keys, token) is None


def test_tokens_of_the_previous_key_stay_valid_after_a_rotation() -> None:
    keys = ring()
    tokens = RingTokens(keys, ISSUER, AUDIENCE)
    before = keys.current().sign(claims())
    assert run(tokens.load_access_token(before)) is not None  # its JWKS is now cached
    keys.rotate()
    after = keys.current().sign(claims())
    assert run(tokens.load_access_token(after)) is not None  # unknown kid: the JWKS again
    assert run(tokens.load_access_token(before)) is not None


# -- the whole flow, as Claude.ai runs it --------------------------------------------------------
@pytest.fixture(params=[(), ("--direct",)], ids=["gateway", "direct"])
def wiki_mode(tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[WikiServe]:
    env = {"WIKIBOT_API_KEY": KEY, "WIKIBOT_MCP_AUTH": "wiki"}
    server = WikiServe(str(tmp_path / "data"), env, *request.param).start()
    yield server
    server.stop()


async def _write(mcp_url: str, provider: Any, path: str) -> Any:
    from fastmcp import Client

    async with Client(mcp_url, auth=provider) as client:
        return await client.call_tool("write_note", {"path": path, "content": "# Wiki mode\n"})


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_claude_signs_in_with_the_wiki_and_the_mcp_server_checks_its_jwts(
    wiki_mode: WikiServe,
) -> None:
    base, mcp = wiki_mode.url, wiki_mode.url + "/mcp"
    resource = requests.get(base + "/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert [s.rstrip("/") for s in resource["authorization_servers"]] == [base]
    server = requests.get(base + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert server["issuer"].rstrip("/") == base and server["token_endpoint"] == base + "/token"

    storage = MemoryTokens()
    approver = {"key": KEY, "name": WREN[0], "email": WREN[1]}
    result = run(_write(mcp, claude_like_client(mcp, storage, approver), "Wiki/Mode"))
    assert not result.is_error
    assert last_author(wiki_mode.data_dir + "/repository", "wiki/mode.md") == WREN

    first = storage.tokens
    jwks = requests.get(base + "/.well-known/jwks.json", timeout=10).json()
    assert [k["kid"] for k in jwks["keys"]] == [_kid(first.access_token)]
    signed = jwt.decode(first.access_token, options={"verify_signature": False})
    assert signed["aud"] == mcp and signed["iss"] == base and signed["email"] == WREN[1]
    assert signed["exp"] - signed["iat"] == first.expires_in == 600

    # the wiki's own key, misused: the MCP server still refuses what it must
    keys = ring(wiki_mode.data_dir + "/mcp-signing-keys.json")
    real = keys.current()
    assert real.kid == _kid(first.access_token)
    for bad in (
        real.sign({**signed, "exp": int(time.time()) - 5}),
        real.sign({**signed, "aud": "https://elsewhere.example.org/mcp"}),
        new_key().sign(signed),
        SigningKey(real.kid, 0, new_key().private_pem).sign(signed),
    ):
        assert _initialize(base, bad) == 401
    assert _initialize(base, first.access_token) == 200

    # rotation (as another instance would do it): the old token keeps working until it expires
    keys.rotate()
    time.sleep(1.1)  # the verifier asks for the JWKS again at most once a second
    renewed = _refresh(base, storage.client.client_id, first.refresh_token)
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()["access_token"]
    assert _kid(second) == keys.current().kid != real.kid
    assert _initialize(base, second) == 200
    assert _initialize(base, first.access_token) == 200
    published = requests.get(base + "/.well-known/jwks.json", timeout=10).json()["keys"]
    assert {k["kid"] for k in published} == {real.kid, _kid(second)}


# -- the route plan -------------------------------------------------------------------------------
WIKI_MODE = {"WIKIBOT_MCP_AUTH": "wiki"}
AT_THE_WIKI = [
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/authorize"),
    ("POST", "/token"),
    ("POST", "/register"),
    ("POST", "/revoke"),
    ("POST", "/oauth/approve"),
]
AT_THE_MCP_FUNCTION = [("POST", "/mcp"), ("GET", "/.well-known/oauth-protected-resource/mcp")]


def test_the_plan_routes_each_oauth_path_to_the_function_that_declares_it() -> None:
    plan = routeplan.configured_plan(WIKI_MODE)
    for method, path in AT_THE_WIKI:  # a route of its own, not the $default
        route = routeplan.select(plan, method, path)
        assert route is not None and route.key == f"{method} {path}", (method, path)
        assert route.target == routeplan.WIKI and "authorization server" in route.why
    for method, path in AT_THE_MCP_FUNCTION:
        assert routeplan.match(plan, method, path) == routeplan.MCP
    local = routeplan.configured_plan({"WIKIBOT_MCP_AUTH": "local"})
    assert routeplan.match(local, "POST", "/token") == routeplan.MCP


def test_a_path_both_functions_would_serve_stops_the_plan() -> None:
    with pytest.raises(ValueError, match="both the MCP app and the wiki"):
        routeplan.configured_plan(WIKI_MODE, {**WIKI_MODE, "WIKIBOT_MCP_ENABLED": "true"})


def test_wikibot_routes_shows_the_oauth_paths_on_the_wiki_function() -> None:
    env = {**clean_environment(), **WIKI_MODE}
    shown = subprocess.run(
        [sys.executable, "-m", "wikibot", "routes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    rows = {
        line.split()[0] + " " + line.split()[1]: line.split()[2]
        for line in shown.splitlines()[1:-1]
    }
    for method, path in AT_THE_WIKI:
        assert rows[f"{method} {path}"] == "wiki"
    assert rows["ANY /mcp"] == "mcp"
