"""What README promises of the built-in (local) OAuth server and the separate MCP app, tested
from outside against real servers on 127.0.0.1: a token works only for the resource it was issued
for, access and refresh tokens live as long as configured and no longer, `/revoke` ends a token
and its partner, `WIKIBOT_MCP_APPROVAL_KEY`, `WIKIBOT_MCP_CORS_ORIGINS` and
`WIKIBOT_MCP_HTTP_TIMEOUT`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from conftest import AUTHORS, KEYS, keys_json, last_author
from mcp_helpers import (
    INITIALIZE,
    MCP_HEADERS,
    REDIRECT_URI,
    Uvicorn,
    WikiServe,
    approve,
    oauth_login,
    pkce,
    tool,
)

APPROVAL_KEY = "approval-key-for-tests"
STATIC_TOKEN = "promises-static-token"
OTTO = ("Otto Approver", "otto@example.org")


@contextmanager
def mcp_app(live_url: str, **config: str) -> Iterator[Uvicorn]:
    """The separate MCP app (local OAuth unless told otherwise) over the wiki's REST API with the
    admin key README asks for, served by uvicorn on 127.0.0.1."""
    from otterwiki_mcp.standalone import create_app

    settings = {
        "WIKIBOT_MCP_AUTH": "local",
        "WIKIBOT_API_URL": live_url,
        "WIKIBOT_API_KEY": KEYS["admin"],
        **config,
    }
    with Uvicorn(create_app(settings)) as server:
        yield server


def initialize(mcp_url: str, token: str, headers: dict[str, str] | None = None) -> int:
    """The status of an MCP initialize with `token` (200: accepted, 401: refused)."""
    sent = {**MCP_HEADERS, "Authorization": f"Bearer {token}", **(headers or {})}
    return requests.post(mcp_url, json=INITIALIZE, headers=sent, timeout=10).status_code


def refresh(base: str, client_id: str, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return requests.post(base + "/token", data=form, timeout=10)


def authorization_url(base: str, resource: str | None) -> str:
    """A registered public client's /authorize URL (PKCE), asking for `resource` if given."""
    client = requests.post(
        base + "/register", json={"redirect_uris": [REDIRECT_URI], "client_name": "t"}, timeout=10
    ).json()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "state": "s1",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
    }
    if resource is not None:
        query["resource"] = resource
    return f"{base}/authorize?{urlencode(query)}"


# -- audience: a token is for the resource it was issued for ----------------------------------
def test_a_token_works_only_at_the_resource_it_was_issued_for(live_url: str) -> None:
    """One app answers several origins (localhost and 127.0.0.1, a proxy's name); tokens share
    one store, but each is bound to the MCP URL it was issued for (RFC 8707, as the MCP spec
    requires), so a token obtained at one resource is refused at another."""
    with mcp_app(live_url) as server:
        localhost = f"http://localhost:{server.port}"
        at_ip = oauth_login(server.url, KEYS["admin"], *OTTO)["access_token"]
        at_name = oauth_login(localhost, KEYS["admin"], *OTTO)["access_token"]

        assert initialize(server.url + "/mcp", at_ip) == 200
        assert initialize(localhost + "/mcp", at_name) == 200
        assert initialize(server.url + "/mcp", at_name) == 401
        assert initialize(localhost + "/mcp", at_ip) == 401
        proxied = {"Host": "wiki.example.org", "X-Forwarded-Proto": "https"}
        assert initialize(server.url + "/mcp", at_ip, proxied) == 401

        # a client asking for another resource gets no code at all
        other = authorization_url(server.url, "https://wiki.example.org/mcp")
        refused = requests.get(other, allow_redirects=False, timeout=10)
        assert refused.status_code == 302
        answer = parse_qs(urlsplit(refused.headers["Location"]).query)
        assert answer["error"] == ["invalid_target"] and "code" not in answer
        ours = authorization_url(server.url, server.url + "/mcp")
        started = requests.get(ours, allow_redirects=False, timeout=10)
        assert started.status_code == 302
        assert started.headers["Location"].startswith(server.url + "/oauth/approve?request=")


# -- lifetimes ----------------------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(database: str, section: str, token: str) -> float:
    """A token's stored expiry, from the documented store (one row per token, by digest)."""
    with closing(sqlite3.connect(database)) as db:
        query = "SELECT expires_at FROM entries WHERE section = ? AND key = ?"
        return float(db.execute(query, (section, _digest(token))).fetchone()[0])


def _age(database: str, section: str, token: str) -> None:
    """Let time pass for one token: its stored expiry moves into the past (the smallest TTL is
    60 s, too long to wait for in a test)."""
    past = int(time.time()) - 1
    with closing(sqlite3.connect(database)) as db, db:
        db.execute(
            "UPDATE entries SET expires_at = ?, value = json_set(value, '$.expires_at', ?) "
            "WHERE section = ? AND key = ?",
            (past, past, section, _digest(token)),
        )


def test_tokens_live_as_long_as_configured_and_no_longer(live_url: str, tmp_path: Any) -> None:
    state_path = str(tmp_path / "oauth.json")
    ttls = {"WIKIBOT_MCP_ACCESS_TOKEN_TTL": "90", "WIKIBOT_MCP_REFRESH_TOKEN_TTL": "600"}
    with mcp_app(live_url, WIKIBOT_MCP_STATE_PATH=state_path, **ttls) as server:
        before = int(time.time())
        login = oauth_login(server.url, KEYS["admin"], *OTTO)
        after = int(time.time()) + 1
        assert login["expires_in"] == 90
        database = str(tmp_path / "oauth.sqlite3")  # a .json path names the database beside it
        access = _expiry(database, "access", login["access_token"])
        refresh_at = _expiry(database, "refresh", login["refresh_token"])
        assert before + 90 <= access <= after + 90
        assert before + 600 <= refresh_at <= after + 600

        mcp_url = server.url + "/mcp"
        assert initialize(mcp_url, login["access_token"]) == 200
        _age(database, "access", login["access_token"])
        assert initialize(mcp_url, login["access_token"]) == 401

        # the refresh token outlives its access token and gets a new pair
        renewed = refresh(server.url, login["client_id"], login["refresh_token"])
        assert renewed.status_code == 200, renewed.text
        pair = renewed.json()
        assert pair["expires_in"] == 90
        assert initialize(mcp_url, pair["access_token"]) == 200

        # an expired refresh token gets nothing
        _age(database, "refresh", pair["refresh_token"])
        expired = refresh(server.url, login["client_id"], pair["refresh_token"])
        assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


# -- revocation ---------------------------------------------------------------------------------
def _revoke(base: str, client_id: str, token: str) -> requests.Response:
    return requests.post(
        base + "/revoke", data={"token": token, "client_id": client_id}, timeout=10
    )


def test_revoke_ends_a_token_and_its_partner(live_url: str) -> None:
    """RFC 7009 through `/revoke`: revoking either token of a pair ends both."""
    with mcp_app(live_url) as server:
        mcp_url = server.url + "/mcp"
        first = oauth_login(server.url, KEYS["admin"], *OTTO)
        second = oauth_login(server.url, KEYS["admin"], *OTTO)
        assert initialize(mcp_url, first["access_token"]) == 200

        assert _revoke(server.url, first["client_id"], first["access_token"]).status_code == 200
        assert initialize(mcp_url, first["access_token"]) == 401
        gone = refresh(server.url, first["client_id"], first["refresh_token"])
        assert gone.status_code == 400 and gone.json()["error"] == "invalid_grant"

        assert _revoke(server.url, second["client_id"], second["refresh_token"]).status_code == 200
        assert initialize(mcp_url, second["access_token"]) == 401
        assert refresh(server.url, second["client_id"], second["refresh_token"]).status_code == 400


# -- the approval key ---------------------------------------------------------------------------
def test_separate_app_takes_the_wikis_write_keys_and_the_approval_key(
    live_url: str, repo: str, unique: str
) -> None:
    """README: an API key with write scope approves in every mode; in the separate app (gateway
    mode) it asks the wiki (`GET /api/v1/whoami`) which key it is, so a write key approves there
    too (before, only WIKIBOT_API_KEY or the approval key did), under the key's own author. Read
    keys and other secrets never approve. WIKIBOT_MCP_APPROVAL_KEY is an extra secret, which
    names nobody: the person types who they are, and that identity authors the commits."""
    with mcp_app(live_url) as server:
        by_default = approve(authorization_url(server.url, None), KEYS["admin"], *OTTO)
        assert by_default.status_code == 303 and "code=" in by_default.headers["Location"]
        write_key = oauth_login(server.url, KEYS["write"])
        path = f"{unique}/ByWriteKey"
        written = tool(
            server.url + "/mcp", write_key["access_token"], "write_note", path=path, content="w"
        )
        assert written.get("created") is True, written
        assert last_author(repo, path.lower() + ".md") == AUTHORS["write"]
        read_key = approve(authorization_url(server.url, None), KEYS["read"], *OTTO)
        assert read_key.status_code == 403 and "not accepted" in read_key.text

    with mcp_app(live_url, WIKIBOT_MCP_APPROVAL_KEY=APPROVAL_KEY) as server:
        api_key = approve(authorization_url(server.url, None), KEYS["write"], *OTTO)
        assert api_key.status_code == 303, api_key.text
        wrong = approve(authorization_url(server.url, None), "not-" + APPROVAL_KEY, *OTTO)
        assert wrong.status_code == 403 and "not accepted" in wrong.text
        nameless = approve(authorization_url(server.url, None), APPROVAL_KEY)
        assert nameless.status_code == 400 and "Enter your email" in nameless.text

        login = oauth_login(server.url, APPROVAL_KEY, *OTTO)
        path = f"{unique}/Approved"
        written = tool(
            server.url + "/mcp", login["access_token"], "write_note", path=path, content="a"
        )
        assert written.get("created") is True, written
        assert last_author(repo, path.lower() + ".md") == OTTO


def test_wiki_approval_key_is_extra_to_its_write_keys(tmp_path: Any, unique: str) -> None:
    """README: in the wiki the approval key is an extra secret; the wiki's write keys always
    work (their author is the default identity), read keys and other secrets never."""
    env = {"WIKIBOT_API_KEYS": keys_json(), "WIKIBOT_MCP_APPROVAL_KEY": APPROVAL_KEY}
    wiki = WikiServe(str(tmp_path / "data"), env, "--direct").start()
    try:
        for key, typed, author in (
            (APPROVAL_KEY, OTTO, OTTO),
            (KEYS["write"], ("", ""), AUTHORS["write"]),
        ):
            token = oauth_login(wiki.url, key, *typed)["access_token"]
            path = f"{unique}/{author[0].split()[0]}"
            written = tool(wiki.url + "/mcp", token, "write_note", path=path, content="a")
            assert written.get("created") is True, written
            assert last_author(wiki.data_dir + "/repository", path.lower() + ".md") == author
        for refused in (KEYS["read"], "not-a-key"):
            answer = approve(authorization_url(wiki.url, None), refused, *OTTO)
            assert answer.status_code == 403 and "not accepted" in answer.text
    finally:
        wiki.stop()


# -- CORS ---------------------------------------------------------------------------------------
def test_cors_only_for_the_configured_origins(live_url: str) -> None:
    """WIKIBOT_MCP_CORS_ORIGINS: browsers on the listed origins may call the MCP endpoint and
    read its challenge; any other origin gets no CORS headers (a refused preflight). The
    discovery documents are public: they are readable from the listed origins (the SDK also
    answers `*` to others, which exposes nothing)."""
    allowed = ("https://claude.ai", "https://app.example.org")
    with mcp_app(live_url, WIKIBOT_MCP_CORS_ORIGINS=" , ".join(allowed)) as server:
        mcp_url = server.url + "/mcp"
        discovery = server.url + "/.well-known/oauth-protected-resource/mcp"
        for origin in (*allowed, "https://evil.example"):
            preflight = requests.options(
                mcp_url,
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type",
                },
                timeout=10,
            )
            challenge = requests.post(
                mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": origin}, timeout=10
            )
            assert challenge.status_code == 401
            granted = [r.headers.get("Access-Control-Allow-Origin") for r in (preflight, challenge)]
            if origin in allowed:
                assert preflight.status_code == 200 and granted == [origin, origin]
                expose = challenge.headers["Access-Control-Expose-Headers"].lower()
                assert "www-authenticate" in expose
                metadata = requests.get(discovery, headers={"Origin": origin}, timeout=10)
                assert metadata.headers["Access-Control-Allow-Origin"] == origin
            else:
                assert preflight.status_code == 400 and granted == [None, None]


# -- the separate app's timeout calling the REST API --------------------------------------------
class SlowApi:
    """The wiki's REST API behind a fixed delay: a slow or overloaded wiki as the separate MCP app
    sees it. Every request waits `delay` seconds, then is forwarded to the real wiki."""

    def __init__(self, target: str, delay: float) -> None:
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.stop.wait(delay)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                answer = requests.request(
                    self.command, target + self.path, data=body, headers=headers, timeout=30
                )
                try:
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", answer.headers.get("Content-Type", ""))
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up waiting

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("timeout", "delay", "answers"), [(1.0, 6.0, False), (4.0, 1.5, True)], ids=["slow", "fast"]
)
def test_http_timeout_bounds_each_rest_call(
    live_url: str, timeout: float, delay: float, answers: bool
) -> None:
    """WIKIBOT_MCP_HTTP_TIMEOUT: a REST call slower than it ends, after the timeout and long
    before the wiki would answer, in a tool error an agent can act on; one within it answers."""
    with SlowApi(live_url, delay) as slow:
        tokens = json.dumps([{"token": STATIC_TOKEN, "name": OTTO[0], "email": OTTO[1]}])
        config = {
            "WIKIBOT_MCP_AUTH": "tokens",
            "WIKIBOT_MCP_TOKENS": tokens,
            "WIKIBOT_API_URL": slow.url,
            "WIKIBOT_MCP_HTTP_TIMEOUT": str(timeout),
        }
        with mcp_app(live_url, **config) as server:
            started = time.monotonic()
            listing = tool(server.url + "/mcp", STATIC_TOKEN, "list_notes", limit=1)
            took = time.monotonic() - started
    if answers:
        assert listing.get("total", 0) >= 1, listing
        assert took >= delay, took
    else:
        assert listing.get("error", "").startswith("busy: the wiki at " + slow.url), listing
        assert "answered too slowly" in listing["error"]
        assert timeout <= took < delay, took
