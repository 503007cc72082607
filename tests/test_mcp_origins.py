"""Host names cost nothing until a caller authenticates (issue 11: "every new Host header builds
a new MCP server before authentication (110 ms each)"), over real HTTP against the separate MCP
app on 127.0.0.1:

- POSTs to /mcp without a token, or with a wrong one, under many made-up host names are answered
  401 with the challenge naming that host, and start no MCP server;
- what the OAuth endpoints need per host (metadata naming it) is kept for a bounded number of
  host names, least recently used first out;
- a caller who authenticates gets its server, as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from conftest import KEYS
from mcp_helpers import INITIALIZE, MCP_HEADERS, REDIRECT_URI, Uvicorn, pkce

STATIC = "origins-static-token-0123456789"


@pytest.fixture(scope="module")
def served(live_url: str) -> Iterator[tuple[Any, Uvicorn]]:
    """The MCP app (local OAuth and a static token) and the uvicorn serving it."""
    from otterwiki_mcp.standalone import create_app

    app = create_app(
        {
            "WIKIBOT_MCP_AUTH": "local",
            "WIKIBOT_API_URL": live_url,
            "WIKIBOT_API_KEY": KEYS["admin"],
            "WIKIBOT_MCP_TOKEN": STATIC,
            "WIKIBOT_MCP_MAX_ORIGINS": "4",
        }
    )
    with Uvicorn(app) as server:
        yield app, server


def post_mcp(url: str, host: str, token: str | None) -> requests.Response:
    headers = {**MCP_HEADERS, "Host": host, "X-Forwarded-Proto": "https"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(url + "/mcp", json=INITIALIZE, headers=headers, timeout=30)


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_unauthenticated_requests_under_new_host_names_start_no_server(
    served: tuple[Any, Uvicorn], token: str | None
) -> None:
    app, server = served
    before = set(app._running)  # the origins with a started MCP server
    started = time.monotonic()
    for i in range(30):
        host = f"h{i}-{'none' if token is None else 'bad'}.example"
        answer = post_mcp(server.url, host, token)
        assert answer.status_code == 401, answer.text
        challenge = answer.headers["WWW-Authenticate"]
        metadata = f"https://{host}/.well-known/oauth-protected-resource/mcp"
        assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata}"' in challenge
        assert ('error="invalid_token"' in challenge) == (token is not None)
    took = time.monotonic() - started
    print(
        f"30 unauthenticated host names: {took:.2f} s, servers started {set(app._running) - before}"
    )
    assert set(app._running) == before


def test_per_host_oauth_answers_are_kept_for_a_bounded_number_of_hosts(
    served: tuple[Any, Uvicorn],
) -> None:
    app, server = served
    for i in range(40):
        host = f"m{i}.example"
        answer = requests.get(
            server.url + "/.well-known/oauth-protected-resource/mcp",
            headers={"Host": host, "X-Forwarded-Proto": "https"},
            timeout=30,
        )
        assert answer.json()["resource"] == f"https://{host}/mcp"
        assert post_mcp(server.url, host, "wrong").status_code == 401
    assert len(app._fronts) <= app.max_fronts
    assert "https://m39.example" in app._fronts and "https://m0.example" not in app._fronts
    assert len(app._running) <= app.max_origins


def test_an_authenticated_caller_gets_its_server(served: tuple[Any, Uvicorn]) -> None:
    app, server = served
    answer = post_mcp(server.url, "static.example", STATIC)
    assert answer.status_code == 200, answer.text
    assert "https://static.example" in app._running
    # CORS preflights are answered without a token or a server
    preflight = requests.options(
        server.url + "/mcp",
        headers={
            "Host": "cors.example",
            "X-Forwarded-Proto": "https",
            "Origin": "https://claude.ai",
            "Access-Control-Request-Method": "POST",
        },
        timeout=30,
    )
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"]
    assert "https://cors.example" not in app._running


def test_wrong_approval_keys_count_per_address_whatever_the_host(live_url: str) -> None:
    """Each origin has its own OAuth provider; the count of wrong keys from one address is one
    for all of them, so a guesser gains nothing by naming a new host with every guess."""
    from otterwiki_mcp.standalone import create_app

    config = {
        "WIKIBOT_MCP_AUTH": "local",
        "WIKIBOT_API_URL": live_url,
        "WIKIBOT_API_KEY": KEYS["admin"],
    }
    with Uvicorn(create_app(config)) as server:
        codes = []
        for i in range(21):
            host = {"Host": f"g{i}.example", "X-Forwarded-Proto": "https"}
            client = requests.post(
                server.url + "/register",
                json={"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"},
                headers=host,
                timeout=30,
            ).json()
            query = {
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": REDIRECT_URI,
                "code_challenge": pkce()[1],
                "code_challenge_method": "S256",
            }
            start = requests.get(
                f"{server.url}/authorize?{urlencode(query)}",
                headers=host,
                allow_redirects=False,
                timeout=30,
            )
            request_id = parse_qs(urlsplit(start.headers["Location"]).query)["request"][0]
            form = {"request": request_id, "key": "wrong", "action": "approve"}
            answer = requests.post(
                server.url + "/oauth/approve", data=form, headers=host, timeout=30
            )
            codes.append(answer.status_code)
    assert codes == [403] * 20 + [429], codes
