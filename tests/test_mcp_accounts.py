"""Approving MCP clients with the wiki's own accounts (issue 11, item 2), against `wikibot serve`
as deployed (gateway mode: the MCP function beside the wiki function on one origin) and
`--direct` (the wiki's own /mcp), with real Otterwiki accounts made through its registration
form: the approval page knows who is signed in, sends who is not to the wiki's login and back,
refuses a form another site submits, and the token it gives carries that account: its name and
e-mail author the commits, and an account without write access cannot write. The signed-in
person sees the clients they allowed and revokes them. Chromium drives login -> approval ->
redirect with the MCP SDK's OAuth client."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import last_author
from mcp_helpers import (
    INITIALIZE,
    MCP_HEADERS,
    Authorization,
    WikiServe,
    redeem,
    run,
    start_authorization,
    tool,
)
from test_access import register

OWNER = ("Olga Owner", "olga@example.org")
READER = ("Rita Reader", "rita@example.org")
SITE = "Otter Test Wiki"
PASSWORD = "a-long-password"


@dataclass
class AccountWiki:
    mode: str
    url: str
    repo: str
    owner: requests.Session
    reader: requests.Session


MODES = {  # wikibot serve's flags and MCP sign-in: the MCP app beside the wiki (gateway), in it
    # (direct), and the wiki as the authorization server issuing JWTs the MCP function verifies
    "gateway": ((), {}),
    "direct": (("--direct",), {}),
    "wiki": ((), {"WIKIBOT_MCP_AUTH": "wiki"}),
}


@pytest.fixture(scope="module", params=list(MODES))
def wiki(tmp_path_factory: pytest.TempPathFactory, request: Any) -> Iterator[AccountWiki]:
    """A private wiki whose registered accounts may read but only approved ones write: the
    owner (admin) writes, Rita (registered, not approved) only reads."""
    data = str(tmp_path_factory.mktemp("accounts") / "data")
    env = {
        "WIKIBOT_API_KEY": "accounts-admin-key",
        "WIKIBOT_ACCESS": "private",
        "WIKIBOT_OWNER_EMAIL": OWNER[1],
        "READ_ACCESS": "REGISTERED",
        "SITE_NAME": SITE,
    }
    flags, mode_env = MODES[request.param]
    server = WikiServe(data, {**env, **mode_env}, *flags).start()
    try:
        owner = register(server.url, OWNER[1], OWNER[0])
        reader = register(server.url, READER[1], READER[0])
        yield AccountWiki(request.param, server.url, data + "/repository", owner, reader)
    finally:
        server.stop()


def approval_page(session: requests.Session, auth: Authorization) -> requests.Response:
    start = session.get(auth.url, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    return session.get(start.headers["Location"], allow_redirects=False, timeout=30)


def form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def submit(
    session: requests.Session, base: str, fields: dict[str, str], **headers: str
) -> requests.Response:
    form = {**fields, "action": "approve"}
    return session.post(
        base + "/oauth/approve", data=form, headers=headers, allow_redirects=False, timeout=30
    )


def login_as(
    session: requests.Session, wiki: AccountWiki, client: str = "Pytest Claude"
) -> dict[str, Any]:
    auth = start_authorization(wiki.url, client)
    page = approval_page(session, auth)
    assert page.status_code == 200, page.text
    return redeem(wiki.url, auth, submit(session, wiki.url, form_fields(page.text)))


def initialize(base: str, token: str) -> int:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return requests.post(base + "/mcp", json=INITIALIZE, headers=headers, timeout=30).status_code


def test_the_page_says_who_is_signed_in_and_what_is_asked(wiki: AccountWiki) -> None:
    page = approval_page(wiki.reader, start_authorization(wiki.url, "Pytest Claude"))
    assert page.status_code == 200, page.text
    text = re.sub(r"\s+", " ", page.text)
    assert f"Signed in as <strong>{READER[0]}</strong> &lt;{READER[1]}&gt;" in text
    assert f"<span>{SITE}</span>" in text  # the wiki's own name
    assert "Pytest Claude" in text and "<code>claude.ai</code>" in text  # client, redirect host
    assert "may only read" in text  # the access asked for, as this account may give it
    lasts = "10 minutes at a time" if wiki.mode == "wiki" else "1 hour at a time"
    assert lasts in text and "30 days" in text  # how long it lasts (wiki mode: short JWTs)
    assert 'href="/oauth/clients"' in text  # where to revoke
    assert page.headers["X-Frame-Options"] == "DENY"


def test_who_is_not_signed_in_is_sent_to_the_login_and_back(wiki: AccountWiki) -> None:
    auth = start_authorization(wiki.url)
    browser = requests.Session()
    page = approval_page(browser, auth)
    assert page.status_code == 303
    login = page.headers["Location"]
    assert login.startswith("/-/login?next=%2Foauth%2Fapprove%3Frequest%3D"), login
    signed_in = register(wiki.url, "new@example.org", "New Person")  # registers and logs in
    back = signed_in.get(wiki.url + parse_qs(urlsplit(login).query)["next"][0], timeout=30)
    assert "Signed in as <strong>New Person</strong>" in back.text


def test_a_form_another_site_submits_is_refused(wiki: AccountWiki) -> None:
    auth = start_authorization(wiki.url)
    fields = form_fields(approval_page(wiki.owner, auth).text)
    without = submit(wiki.owner, wiki.url, {k: v for k, v in fields.items() if k != "csrf"})
    assert without.status_code == 400 and "did not come from this page" in without.text
    # the token of another person's page (an attacker loads the page as themselves)
    theirs = form_fields(approval_page(wiki.reader, auth).text)["csrf"]
    forged = submit(wiki.owner, wiki.url, {**fields, "csrf": theirs})
    assert forged.status_code == 400
    cross = submit(wiki.owner, wiki.url, fields, **{"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 400
    # the wiki's session cookie is SameSite=Lax: a cross-site POST carries none to begin with
    fresh = requests.get(wiki.url + "/-/login", timeout=30).headers.get("Set-Cookie", "")
    assert "session=" in fresh and "SameSite=Lax" in fresh, fresh
    done = submit(wiki.owner, wiki.url, fields)  # the page's own form still works
    assert redeem(wiki.url, auth, done)["access_token"]


def test_the_token_carries_the_account_its_author_and_permissions(wiki: AccountWiki) -> None:
    owner = login_as(wiki.owner, wiki)["access_token"]
    written = tool(wiki.url + "/mcp", owner, "write_note", path="Accounts/Owned", content="o")
    assert written.get("created") is True, written
    assert last_author(wiki.repo, "accounts/owned.md") == OWNER

    reader = login_as(wiki.reader, wiki)["access_token"]
    read = tool(wiki.url + "/mcp", reader, "read_note", path="Accounts/Owned")
    assert read.get("content", "").startswith("o"), read
    refused = tool(wiki.url + "/mcp", reader, "write_note", path="Accounts/Mine", content="r")
    assert refused["error"].startswith(f"forbidden: the wiki account {READER[1]} may not change")
    assert "Ask the wiki's admin for write access" in refused["error"]
    upload = tool(
        wiki.url + "/mcp",
        reader,
        "upload_attachment",
        path="Accounts/Owned",
        filename="a.txt",
        content="x",
        encoding="text",
    )
    assert upload["error"].startswith("forbidden:"), upload


def test_the_clients_page_lists_and_revokes(wiki: AccountWiki) -> None:
    session = register(wiki.url, "carl@example.org", "Carl Clients")
    token = login_as(session, wiki, "Carl Client App")
    assert initialize(wiki.url, token["access_token"]) == 200
    listing = session.get(wiki.url + "/oauth/clients", timeout=30)
    assert listing.status_code == 200 and "Carl Client App" in listing.text
    assert "Signed in as <strong>Carl Clients</strong>" in listing.text
    assert "Carl Client App" not in wiki.reader.get(wiki.url + "/oauth/clients", timeout=30).text
    fields = form_fields(listing.text)
    forged = session.post(
        wiki.url + "/oauth/clients",
        data={"grant": fields["grant"]},
        allow_redirects=False,
        timeout=30,
    )
    assert forged.status_code == 403
    assert initialize(wiki.url, token["access_token"]) == 200
    # another person, with their own page's token, cannot revoke Carl's grant
    rita = form_fields(wiki.reader.get(wiki.url + "/oauth/clients", timeout=30).text)
    wiki.reader.post(
        wiki.url + "/oauth/clients", data={**rita, "grant": fields["grant"]}, timeout=30
    )
    assert initialize(wiki.url, token["access_token"]) == 200
    revoked = session.post(
        wiki.url + "/oauth/clients", data=fields, allow_redirects=False, timeout=30
    )
    assert revoked.status_code == 303
    # wiki mode: the MCP function checks a JWT's signature, not the wiki's state, so the access
    # token lasts its 10 minutes (docs/deploy.md); the refresh token is refused at once below
    assert initialize(wiki.url, token["access_token"]) == (200 if wiki.mode == "wiki" else 401)
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
        "client_id": token["client_id"],
    }
    assert requests.post(wiki.url + "/token", data=refresh, timeout=10).status_code == 400
    assert "Carl Client App" not in session.get(wiki.url + "/oauth/clients", timeout=30).text
    anonymous = requests.get(wiki.url + "/oauth/clients", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 303 and "/-/login" in anonymous.headers["Location"]


# -- a real browser, and the MCP SDK's OAuth client ----------------------------------------------
class Callback:
    """The client's loopback redirect URI (RFC 8252): catches the code the browser brings."""

    def __init__(self) -> None:
        self.query: dict[str, list[str]] = {}
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if urlsplit(self.path).path == "/callback":  # not /favicon.ico
                    outer.query = parse_qs(urlsplit(self.path).query)
                    outer.arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"connected")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_chromium_signs_in_approves_and_the_sdk_client_writes(
    wiki: AccountWiki, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The MCP SDK's OAuth client opens the authorization URL in Chromium, which is sent to the
    wiki's login, signs in as the owner, lands back on the approval page, allows; the loopback
    callback gets the code and the client writes as the owner."""
    from fastmcp import Client
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata
    from test_api_docs import CHROMEDRIVER, CHROMIUM, WebDriver
    from test_mcp_oauth import MemoryTokens

    for program in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(program), f"{program} is missing"
    browser = WebDriver(str(tmp_path_factory.mktemp("accounts-browser")))
    callback = Callback()
    seen: dict[str, Any] = {}

    async def redirect_handler(authorization_url: str) -> None:
        browser.get(authorization_url)
        assert browser.wait("return location.pathname === '/-/login'"), browser.js(
            "return location.href"
        )
        browser.type("#email", OWNER[1])
        browser.type("#password", PASSWORD)
        browser.click("input[type=submit][value=Login]")
        assert browser.wait("return location.pathname === '/oauth/approve'")
        seen["page"] = browser.js("return document.body.innerText")
        browser.click("button[value=approve]")

    async def callback_handler() -> AuthorizationCodeResult:
        assert callback.arrived.wait(30), "the browser never reached the callback"
        assert "code" in callback.query, (callback.query, seen)
        return AuthorizationCodeResult(
            code=callback.query["code"][0], state=callback.query["state"][0]
        )

    metadata = OAuthClientMetadata(
        client_name="Chromium Claude",
        redirect_uris=[callback.url],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    storage = MemoryTokens()
    provider = OAuthClientProvider(
        wiki.url + "/mcp", metadata, storage, redirect_handler, callback_handler
    )

    async def write() -> Any:
        async with Client(wiki.url + "/mcp", auth=provider) as client:
            return await client.call_tool(
                "write_note", {"path": "Accounts/Browser", "content": "via Chromium"}
            )

    try:
        result = run(write())
    finally:
        browser.close()
        callback.close()
    assert f"Signed in as {OWNER[0]} <{OWNER[1]}>" in seen["page"]
    assert "Chromium Claude" in seen["page"] and "127.0.0.1" in seen["page"]
    assert result.structured_content["created"] is True
    assert last_author(wiki.repo, "accounts/browser.md") == OWNER
