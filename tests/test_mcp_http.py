"""What MCP clients rely on at the HTTP level, on the wiki's own /mcp and on the separate app:
405 for GET, a 401 challenge naming the protected-resource metadata, stateless JSON answers, CORS
for browsers; and declared paths equal to the paths the app really serves, in every auth mode."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import ROOT
from mcp_helpers import (  # noqa: F401  (fixtures, used by name)
    BACKENDS,
    INITIALIZE,
    MCP_HEADERS,
    STATIC_TOKEN,
    JwksServer,
    McpTarget,
    Uvicorn,
    backend_target,
    inwiki_mcp,
    standalone_mcp,
)


@pytest.fixture(params=list(BACKENDS))
def target(request: pytest.FixtureRequest) -> McpTarget:
    return backend_target(request, request.param)


def test_get_is_405(target: McpTarget) -> None:
    response = requests.get(target.url, headers={"Accept": "text/event-stream"}, timeout=10)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_post_is_stateless_json(target: McpTarget) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {target.token}"}
    response = requests.post(target.url, json=INITIALIZE, headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "mcp-session-id" not in {k.lower() for k in response.headers}
    assert response.json()["result"]["serverInfo"]["name"] == "wikibot"
    # no session: a tools/list without initialize is answered on its own
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    response = requests.post(target.url, json=listing, headers=headers, timeout=10)
    assert response.status_code == 200
    assert {t["name"] for t in response.json()["result"]["tools"]} == readme_tools()


def readme_tools() -> set[str]:
    """The tools README's MCP section promises: the names in the first column of its tool
    table."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        section = f.read().split("\n## MCP\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([a-z_]+)`", row)}


def test_wrong_token_is_401(target: McpTarget) -> None:
    headers = {**MCP_HEADERS, "Authorization": "Bearer not-a-token"}
    response = requests.post(target.url, json=INITIALIZE, headers=headers, timeout=10)
    assert response.status_code == 401


def _resource_metadata(challenge: str) -> str:
    match = re.search(r'resource_metadata="([^"]+)"', challenge)
    assert match, challenge
    return match.group(1)


def test_401_points_at_protected_resource_metadata(live_url: str) -> None:
    response = requests.post(live_url + "/mcp", json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
    assert response.status_code == 401
    url = _resource_metadata(response.headers["WWW-Authenticate"])
    assert url == live_url + "/.well-known/oauth-protected-resource/mcp"
    resource = requests.get(url, timeout=10).json()
    assert resource["resource"] == live_url + "/mcp"
    server = resource["authorization_servers"][0].rstrip("/")
    metadata = requests.get(server + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["authorization_endpoint"] == live_url + "/authorize"
    assert metadata["token_endpoint"] == live_url + "/token"
    assert metadata["registration_endpoint"] == live_url + "/register"
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_metadata_follows_the_host_the_client_used(live_url: str) -> None:
    """localhost and 127.0.0.1 are the same wiki; each is told its own URLs."""
    port = live_url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        response = requests.post(
            live_url + "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Host": host}, timeout=10
        )
        assert _resource_metadata(response.headers["WWW-Authenticate"]).startswith(
            f"http://{host}/"
        )
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "wiki.example.org"}
    response = requests.get(
        live_url + "/.well-known/oauth-protected-resource/mcp", headers=forwarded, timeout=10
    )
    assert response.json()["resource"] == "https://wiki.example.org/mcp"


def test_cors_for_browser_clients(target: McpTarget) -> None:
    preflight = requests.options(
        target.url,
        headers={
            "Origin": "https://claude.ai",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "mcp-protocol-version" in allowed

    challenged = requests.post(
        target.url,
        json=INITIALIZE,
        headers={**MCP_HEADERS, "Origin": "https://claude.ai"},
        timeout=10,
    )
    assert challenged.status_code == 401
    assert challenged.headers["Access-Control-Allow-Origin"] == "*"
    assert "www-authenticate" in challenged.headers["Access-Control-Expose-Headers"].lower()


# -- declared paths ----------------------------------------------------------------------------
MODES: dict[str, dict[str, str]] = {
    "local": {"WIKIBOT_MCP_AUTH": "local"},
    "local+token": {"WIKIBOT_MCP_AUTH": "local", "WIKIBOT_MCP_TOKEN": STATIC_TOKEN},
    "authkit": {"WIKIBOT_MCP_AUTH": "authkit", "WIKIBOT_MCP_AUTHKIT_DOMAIN": "http://127.0.0.1:9"},
    "tokens": {"WIKIBOT_MCP_AUTH": "tokens", "WIKIBOT_MCP_TOKEN": STATIC_TOKEN},
    "local at /agents/mcp": {"WIKIBOT_MCP_AUTH": "local", "WIKIBOT_MCP_PATH": "/agents/mcp"},
}
OAUTH = {"/authorize", "/token", "/register", "/revoke", "/oauth/approve", "/oauth/clients"}
DISCOVERY = {
    "/.well-known/oauth-protected-resource/mcp",
    "/.well-known/oauth-authorization-server",
}
EXPECTED = {
    "local": {"/mcp"} | OAUTH | DISCOVERY,
    "local+token": {"/mcp"} | OAUTH | DISCOVERY,
    "authkit": {"/mcp"} | DISCOVERY,
    "tokens": {"/mcp"},
    "local at /agents/mcp": {"/agents/mcp", "/.well-known/oauth-protected-resource/agents/mcp"}
    | OAUTH
    | {"/.well-known/oauth-authorization-server"},
}


def _config(mode: str, live_url: str) -> dict[str, str]:
    return {**MODES[mode], "WIKIBOT_API_URL": live_url, "WIKIBOT_API_KEY": "unused"}


@pytest.fixture(params=list(MODES))
def served(request: pytest.FixtureRequest, live_url: str) -> Iterator[tuple[str, Any, str]]:
    """The separate app in one auth mode; in `authkit` mode AuthKit is a stand-in on 127.0.0.1,
    so the metadata the app forwards from it exists (an unreachable AuthKit answers 500)."""
    from otterwiki_mcp.standalone import create_app

    with JwksServer({"keys": []}) as idp:
        config = _config(request.param, live_url)
        if request.param == "authkit":
            config["WIKIBOT_MCP_AUTHKIT_DOMAIN"] = idp.url
        app = create_app(config)
        with Uvicorn(app) as server:
            yield request.param, app, server.url


def _probe(url: str, method: str) -> int:
    headers = {"Origin": "https://claude.ai"}
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "POST"
    return requests.request(
        method, url, headers=headers, data=b"", allow_redirects=False, timeout=10
    ).status_code


OAUTH_EMPTY_REQUEST = {
    "/authorize": 400,  # no client_id
    "/oauth/approve": 400,  # no approval request
    "/oauth/clients": 401,  # nobody signed in (and the test wiki has no accounts to sign in to)
    "/register": 400,  # no client metadata
    "/revoke": 401,  # no client authentication
    "/token": 401,  # no client authentication
}
"""What each OAuth endpoint answers a request without credentials or parameters."""


def _expected_status(path: str, method: str, mcp_path: str) -> int:
    """The one status a bare request (no token, empty body) gets from a declared path: a CORS
    preflight 200, the MCP endpoint a 401 challenge, discovery documents 200, the OAuth endpoints
    the client error of their own validation. Never a 5xx, and never 404/405."""
    if method == "OPTIONS":
        return 200
    if path == mcp_path:
        return 401
    if path.startswith("/.well-known/"):
        return 200
    return OAUTH_EMPTY_REQUEST[path]


def test_declared_paths_are_exactly_the_served_paths(served: tuple[str, Any, str]) -> None:
    mode, app, url = served
    declared = app.declared_paths()
    assert {p.path for p in declared} == EXPECTED[mode]
    mcp_path = MODES[mode].get("WIKIBOT_MCP_PATH", "/mcp")
    for path in declared:
        for method in path.methods:
            status = _probe(url + path.path, method)
            expected = _expected_status(path.path, method, mcp_path)
            assert status == expected, f"{mode}: {method} {path.path} -> {status}, not {expected}"
    for undeclared in sorted((OAUTH | DISCOVERY | {"/mcp", "/nothing"}) - EXPECTED[mode]):
        assert _probe(url + undeclared, "GET") == 404, f"{mode}: {undeclared} is served"
        assert _probe(url + undeclared, "POST") == 404, f"{mode}: {undeclared} is served"


def test_declared_paths_report_is_json_ready(live_url: str) -> None:
    """What the deploy's route plan reads: plain paths and methods."""
    from otterwiki_mcp.standalone import declared_paths

    report = [
        {"path": p.path, "methods": list(p.methods)}
        for p in declared_paths(_config("local", live_url))
    ]
    assert json.loads(json.dumps(report))[0]["path"].startswith("/")
    assert {"path": "/mcp", "methods": ["DELETE", "OPTIONS", "POST"]} in report


def test_wiki_dispatches_only_declared_paths_and_methods(app: Any, live_url: str) -> None:
    declared = app.extensions["wikibot_mcp"].declared_paths()
    assert {p.path for p in declared} == EXPECTED["local"]
    registered = requests.post(
        live_url + "/register",
        json={"redirect_uris": ["https://claude.ai/api/mcp/auth_callback"]},
        timeout=10,
    )
    assert registered.status_code == 201 and registered.json()["client_id"]
    # GET /token is not the MCP app's: the wiki answers (the page named "Token" does not exist)
    wiki_page = requests.get(live_url + "/token", timeout=10)
    assert wiki_page.status_code == 404 and "text/html" in wiki_page.headers["Content-Type"]
    assert "<title>Token - not found" in wiki_page.text and 'href="/token?edit"' in wiki_page.text
    assert requests.get(live_url + "/api/v1/health", timeout=10).json() == {"status": "ok"}


def test_many_host_names_never_lock_out_the_real_one(live_url: str) -> None:
    """Past the cap the least recently used origin is dropped and rebuilt on demand."""
    from otterwiki_mcp.standalone import create_app

    config = {**_config("local", live_url), "WIKIBOT_MCP_MAX_ORIGINS": "2"}
    with Uvicorn(create_app(config)) as server:
        for host in ["a.example", "b.example", "c.example", "d.example", "a.example"]:
            response = requests.get(
                server.url + "/.well-known/oauth-protected-resource/mcp",
                headers={"Host": host, "X-Forwarded-Proto": "https"},
                timeout=10,
            )
            assert response.json()["resource"] == f"https://{host}/mcp"
        # OAuth needs https off localhost: a plain-http public name gets a clear 400
        plain = requests.get(server.url + "/mcp", headers={"Host": "e.example"}, timeout=10)
        assert plain.status_code == 400 and "https" in plain.text
