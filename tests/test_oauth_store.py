"""The built-in OAuth server's state store (issue 11: "a state store whose cost does not grow
with its size, shared safely by processes"), from outside over real HTTP:

- one `/register` writes about as many bytes with 5,000 registered clients as with 10 (the JSON
  file it replaces was rewritten whole on every step);
- a deployed wiki's JSON state file is taken over once: its clients and tokens keep working, the
  file is renamed `.migrated`, the database is private to its owner (0600);
- two server processes sharing the store register, approve, exchange and refresh at the same
  time, each step at the other process than the one before, and nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from conftest import KEYS, ROOT
from mcp_helpers import (
    INITIALIZE,
    MCP_HEADERS,
    REDIRECT_URI,
    Uvicorn,
    clean_environment,
    code_exchange,
    free_port,
    pkce,
)

APPROVAL_KEY = "store-approval-key-0123456789"
WHO = {"name": "Stella Store", "email": "stella@example.org"}


def settings(live_url: str, state_path: str, **extra: str) -> dict[str, str]:
    return {
        "WIKIBOT_MCP_AUTH": "local",
        "WIKIBOT_API_URL": live_url,
        "WIKIBOT_API_KEY": KEYS["admin"],
        "WIKIBOT_MCP_APPROVAL_KEY": APPROVAL_KEY,
        "WIKIBOT_MCP_STATE_PATH": state_path,
        **extra,
    }


def legacy_state(clients: int, tokens: dict[str, str] | None = None) -> dict[str, Any]:
    """A state file as the JSON store wrote it: `clients` registrations and access tokens
    (digest -> resource) that last an hour."""
    now = int(time.time())
    state: dict[str, Any] = {name: {} for name in ("clients", "pending", "codes", "access")}
    state["refresh"] = {}
    for i in range(clients):
        cid = f"client-{i:05d}-{secrets.token_hex(8)}"
        state["clients"][cid] = {
            "client_id": cid,
            "client_id_issued_at": now,
            "client_name": f"Claude {i}",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
    for digest, resource in (tokens or {}).items():
        state["access"][digest] = {
            "client_id": next(iter(state["clients"])),
            "scopes": [],
            "identity": {"name": WHO["name"], "email": WHO["email"]},
            "resource": resource,
            "origin": "o",
            "refresh": "r",
            "expires_at": now + 3600,
        }
    return state


def written_bytes() -> int:
    """Bytes this process has handed to write() so far (files and pipes; not sockets)."""
    with open("/proc/self/io", encoding="ascii") as f:
        return int(next(line for line in f if line.startswith("wchar:")).split()[1])


def register(base: str) -> requests.Response:
    body = {
        "client_name": "pytest",
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "none",  # a public client, as every MCP client is
    }
    return requests.post(base + "/register", json=body, timeout=30)


def register_cost(live_url: str, folder: str, clients: int) -> int:
    """Bytes written by one `/register` over HTTP with `clients` registrations already stored."""
    from otterwiki_mcp.standalone import create_app

    os.makedirs(folder)
    state_path = os.path.join(folder, "mcp-oauth.json")
    with open(state_path, "w", encoding="utf-8") as f:
        json.dump(legacy_state(clients), f)
    with Uvicorn(create_app(settings(live_url, state_path))) as server:
        assert register(server.url).status_code == 201  # the first builds the origin's server
        costs = []
        for _ in range(3):
            before = written_bytes()
            assert register(server.url).status_code == 201
            costs.append(written_bytes() - before)
    return min(costs)


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc/self/io")
def test_a_registration_costs_the_same_with_5000_clients_as_with_10(
    live_url: str, tmp_path: Any
) -> None:
    small = register_cost(live_url, str(tmp_path / "small"), 10)
    large = register_cost(live_url, str(tmp_path / "large"), 5000)
    print(f"bytes written per /register: {small} with 10 clients, {large} with 5,000")
    assert large < 64 * 1024, f"{large} bytes written for one registration"
    assert large < 2 * small + 16 * 1024, (small, large)


def test_a_deployed_state_file_is_taken_over_once(live_url: str, tmp_path: Any) -> None:
    from otterwiki_mcp.standalone import create_app

    state_path = str(tmp_path / "data" / "mcp-oauth.json")
    os.makedirs(os.path.dirname(state_path))
    token = secrets.token_urlsafe(32)
    resource = "https://wiki.example.org/mcp"  # the public URL, whatever Host a request names
    digest = hashlib.sha256(token.encode()).hexdigest()
    old = legacy_state(3, {digest: resource})
    with open(state_path, "w", encoding="utf-8") as f:
        json.dump(old, f)
    config = settings(live_url, state_path, WIKIBOT_MCP_BASE_URL="https://wiki.example.org")
    with Uvicorn(create_app(config)) as server:
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
        answer = requests.post(server.url + "/mcp", json=INITIALIZE, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        for client_id in old["clients"]:  # every registration is still known
            assert authorize(server.url, client_id)[0].status_code == 302
    assert not os.path.exists(state_path) and os.path.exists(state_path + ".migrated")
    database = str(tmp_path / "data" / "mcp-oauth.sqlite3")
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600
    with open(database, "rb") as f:
        assert f.read(16) == b"SQLite format 3\x00"
    # a second start finds nothing to migrate and keeps what it has
    with Uvicorn(create_app(config)) as server:
        answer = requests.post(server.url + "/mcp", json=INITIALIZE, headers=headers, timeout=10)
        assert answer.status_code == 200


# -- two processes, one store -------------------------------------------------------------------
class McpProcess:
    """The separate MCP app served by uvicorn in a subprocess of its own."""

    def __init__(self, env: dict[str, str], log: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "otterwiki_mcp.standalone:create_app"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                cmd, env={**clean_environment(), **env}, cwd=ROOT, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, open(log).read()[-3000:]
            try:
                requests.get(self.url + "/.well-known/oauth-authorization-server", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{self.url} did not start: {open(log).read()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def two_processes(live_url: str, tmp_path: Any) -> Iterator[list[McpProcess]]:
    """Two MCP processes on one state path, answering for one public URL, as workers behind
    one address do."""
    state_path = str(tmp_path / "data" / "mcp-oauth.json")
    env = settings(live_url, state_path, WIKIBOT_MCP_BASE_URL="https://wiki.example.org")
    first = McpProcess(env, str(tmp_path / "first.log"))
    second: McpProcess | None = None
    try:
        second = McpProcess(env, str(tmp_path / "second.log"))
        yield [first, second]
    finally:
        first.stop()
        if second is not None:
            second.stop()


def authorize(base: str, client_id: str) -> tuple[requests.Response, str]:
    """/authorize with PKCE for a registered client: the answer and the PKCE verifier."""
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = requests.get(f"{base}/authorize?{urlencode(query)}", allow_redirects=False, timeout=30)
    return answer, verifier


def login_across(one: str, other: str) -> dict[str, str]:
    """A whole login whose every step goes to the other process than the one before: the
    client's id, its first access token and the pair refreshing gave."""
    client_id = register(one).json()["client_id"]
    start, verifier = authorize(other, client_id)
    assert start.status_code == 302, start.text
    request_id = parse_qs(urlsplit(start.headers["Location"]).query)["request"][0]
    form = {"request": request_id, "key": APPROVAL_KEY, "action": "approve", **WHO}
    done = requests.post(one + "/oauth/approve", data=form, allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    exchange = code_exchange(code, client_id, verifier)
    first = requests.post(other + "/token", data=exchange, timeout=30)
    assert first.status_code == 200, first.text
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": first.json()["refresh_token"],
        "client_id": client_id,
    }
    second = requests.post(one + "/token", data=refresh, timeout=30)
    assert second.status_code == 200, second.text
    return {
        "client_id": client_id,
        "first": first.json()["access_token"],
        "access": second.json()["access_token"],
    }


def initialize(url: str, token: str) -> int:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return requests.post(url + "/mcp", json=INITIALIZE, headers=headers, timeout=30).status_code


def test_two_processes_share_the_store_and_lose_nothing(two_processes: list[McpProcess]) -> None:
    a, b = (p.url for p in two_processes)
    pairs = [(a, b), (b, a)] * 12
    with ThreadPoolExecutor(8) as pool:
        logins = list(pool.map(lambda pair: login_across(*pair), pairs))
    extra = [register(url).json()["client_id"] for url in (a, b) for _ in range(5)]
    assert len({login["client_id"] for login in logins} | set(extra)) == len(pairs) + 10
    for url in (a, b):
        for login in logins:
            assert initialize(url, login["access"]) == 200  # every refreshed pair works
            assert initialize(url, login["first"]) == 401  # and the pair it replaced ended
        for client_id in extra:
            assert authorize(url, client_id)[0].status_code == 302  # every client is known
