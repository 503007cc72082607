"""The built-in OAuth server against someone guessing and someone registering junk (issue:
MCP sign-in people can trust), through `wikibot serve --direct` over real HTTP: an approval
request takes a few wrong keys and is then cancelled, an address that keeps guessing is answered
429 at once (no sleeping on the request path, so a valid MCP call never waits behind it), and
registration takes only redirect URIs MCP clients use, short names and few URIs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from mcp_helpers import INITIALIZE, MCP_HEADERS, REDIRECT_URI, WikiServe, code_exchange, pkce

KEY = "hardening-admin-key-0123456789abcdef"
TOKEN = "hardening-mcp-token-0123456789abcdef"


@pytest.fixture(scope="module")
def wiki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WikiServe]:
    data = str(tmp_path_factory.mktemp("hardening") / "data")
    server = WikiServe(data, {"WIKIBOT_API_KEY": KEY, "WIKIBOT_MCP_TOKEN": TOKEN}, "--direct")
    yield server.start()
    server.stop()


def register(base: str, **overrides: Any) -> requests.Response:
    body = {
        "client_name": "pytest",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }
    return requests.post(base + "/register", json=body, timeout=10)


def authorization(base: str) -> tuple[str, str, str]:
    """A fresh approval page's URL (registration, /authorize with PKCE), the client's id and
    the PKCE verifier."""
    client = register(base).json()
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    start = requests.get(f"{base}/authorize?{urlencode(query)}", allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    return start.headers["Location"], client["client_id"], verifier


def approval_request(base: str) -> str:
    return authorization(base)[0]


def submit(page_url: str, key: str) -> requests.Response:
    request_id = parse_qs(urlsplit(page_url).query)["request"][0]
    form = {"request": request_id, "key": key, "action": "approve"}
    return requests.post(page_url.split("?")[0], data=form, allow_redirects=False, timeout=10)


@pytest.mark.parametrize(
    "uris",
    [
        ["javascript:alert(1)"],
        ["JavaScript:alert(1)"],
        ["data:text/html,hi"],
        ["file:///etc/passwd"],
        ["http://evil.example.org/callback"],
        [f"https://ok.example.org/{i}" for i in range(11)],
        ["https://ok.example.org/" + "x" * 2000],
    ],
)
def test_registration_refuses_redirect_uris_no_mcp_client_uses(
    wiki: WikiServe, uris: list[str]
) -> None:
    answer = register(wiki.url, redirect_uris=uris)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")


def test_registration_takes_what_claude_uses_and_refuses_huge_names(wiki: WikiServe) -> None:
    for uri in (
        REDIRECT_URI,
        "http://localhost:33418/callback",
        "http://127.0.0.1:8/cb",
        "cursor://anysphere.cursor-mcp/oauth/callback",  # a desktop app's own scheme
    ):
        assert register(wiki.url, redirect_uris=[uri]).status_code == 201, uri
    answer = register(wiki.url, client_name="x" * 1_000_000)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"


def test_an_approval_request_takes_five_wrong_keys_then_is_cancelled(wiki: WikiServe) -> None:
    page = approval_request(wiki.url)
    started = time.monotonic()
    codes = [submit(page, f"wrong-{i}").status_code for i in range(5)]
    assert codes == [403, 403, 403, 403, 429]
    assert time.monotonic() - started < 3, "wrong keys are answered at once, not slept on"
    after = submit(page, KEY)  # even the right key: the request is gone
    assert after.status_code == 400 and "unknown or has expired" in after.text


@pytest.fixture
def guessed_at(tmp_path) -> Iterator[WikiServe]:
    """A wiki of its own: the address limit it reaches would block the other tests' logins."""
    server = WikiServe(
        str(tmp_path / "data"), {"WIKIBOT_API_KEY": KEY, "WIKIBOT_MCP_TOKEN": TOKEN}, "--direct"
    )
    yield server.start()
    server.stop()


def test_an_address_that_keeps_guessing_waits_and_mcp_stays_quick(guessed_at: WikiServe) -> None:
    wiki = guessed_at
    codes = []
    for _ in range(5):  # 4 more requests of 5 guesses: 20 wrong keys from this address
        page = approval_request(wiki.url)
        codes += [submit(page, "wrong").status_code for _ in range(4)]
    blocked = submit(approval_request(wiki.url), KEY)
    assert blocked.status_code == 429 and "try again in" in blocked.text, codes
    started = time.monotonic()
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
    answer = requests.post(wiki.url + "/mcp", json=INITIALIZE, headers=headers, timeout=10)
    assert answer.status_code == 200 and time.monotonic() - started < 2


def test_a_code_used_twice_is_refused_and_revokes_what_it_gave(wiki: WikiServe) -> None:
    page, client_id, verifier = authorization(wiki.url)
    done = submit(page, KEY)
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    form = code_exchange(code, client_id, verifier)
    first = requests.post(wiki.url + "/token", data=form, timeout=10)
    assert first.status_code == 200, first.text
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {first.json()['access_token']}"}
    mcp = wiki.url + "/mcp"
    assert requests.post(mcp, json=INITIALIZE, headers=headers, timeout=10).status_code == 200
    # whoever redeemed it refreshes once (rotation: a new pair), then the code is replayed
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": first.json()["refresh_token"],
        "client_id": client_id,
    }
    rotated = requests.post(wiki.url + "/token", data=refresh, timeout=10)
    assert rotated.status_code == 200, rotated.text
    again = requests.post(wiki.url + "/token", data=form, timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    # every pair of the grant ends, the refreshed one too
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert requests.post(mcp, json=INITIALIZE, headers=headers, timeout=10).status_code == 401
    refresh["refresh_token"] = rotated.json()["refresh_token"]
    assert requests.post(wiki.url + "/token", data=refresh, timeout=10).status_code == 400


@pytest.mark.parametrize("endpoint", ["/token", "/revoke"])
@pytest.mark.parametrize("who", ["unknown client", "wrong secret"])
def test_failed_client_authentication_is_401_invalid_client_with_a_challenge(
    wiki: WikiServe, endpoint: str, who: str
) -> None:
    """RFC 6749 5.2 (and RFC 7009 2.2.1 for /revoke): a client that fails to authenticate gets
    `invalid_client`, and a 401 carries WWW-Authenticate. The SDK sent /revoke's as
    `unauthorized_client` and neither endpoint a challenge."""
    client_id, secret = "no-such-client", "whatever"
    if who == "wrong secret":
        confidential = register(wiki.url, token_endpoint_auth_method="client_secret_post")
        assert confidential.status_code == 201, confidential.text
        client_id, secret = confidential.json()["client_id"], "not-the-secret"
    form = {"client_id": client_id, "client_secret": secret}
    if endpoint == "/token":
        form |= {"grant_type": "refresh_token", "refresh_token": "r"}
    else:
        form |= {"token": "t"}
    answer = requests.post(wiki.url + endpoint, data=form, timeout=10)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers.get("WWW-Authenticate", "").startswith("Basic realm="), answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
