"""Helpers for the MCP tests: real servers on 127.0.0.1 (uvicorn in a thread, `wikibot serve` in
a subprocess, a JWKS endpoint), an OAuth login as a browser would do it, and MCP client calls."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from conftest import ROOT, wait_until_healthy

T = TypeVar("T")
REDIRECT_URI = "https://claude.ai/api/mcp/auth_callback"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "pytest", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

INHERITED = ("REPOSITORY", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SITE_NAME")
"""Otterwiki settings lambda_init takes from the environment: the shell's must not reach a serve."""


def clean_environment() -> dict[str, str]:
    """This process's environment without its wikibot and Otterwiki settings, and with no
    background warm-up of semantic search (each server would load the model, seconds of CPU;
    tests/test_search_warm_up.py turns it on)."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WIKIBOT_", "OTTERWIKI_")) and k not in INHERITED
    }
    return {**environment, "WIKIBOT_SEARCH_WARM_UP": "0"}


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine on a loop of its own. Not asyncio.run: that leaves the main thread with
    no current loop, and Pulumi's mocks (tests/test_infra.py, later in the run) need one."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with listening_socket() as sock:
        return sock.getsockname()[1]


class Uvicorn:
    """An ASGI app served by uvicorn on 127.0.0.1 in a daemon thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = listening_socket()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Uvicorn:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class WikiServe:
    """`wikibot serve` (with `flags`, such as `--direct`) in a subprocess, on its own data folder
    and port, with none of this shell's wikibot or Otterwiki settings."""

    def __init__(self, data_dir: str, env: dict[str, str], *flags: str) -> None:
        self.data_dir = data_dir
        self.flags = flags
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**clean_environment(), "WIKIBOT_SEARCH_EMBEDDER": "none", **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir + "-serve.log"

    def start(self) -> WikiServe:
        cmd = [sys.executable, "-m", "wikibot", "serve", *self.flags, "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*cmd, "--data-dir", self.data_dir],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a group of its own: `kill` takes its git children too
            )
        try:
            # through the gateway the first request builds the wiki app (a Lambda cold start)
            wait_until_healthy(self.url, self.process, self.log, request_timeout=30)
        except RuntimeError:
            self.stop()
            raise
        return self

    def kill(self, group: bool = True) -> None:
        """SIGKILL, as a Lambda timeout or a power cut does: the server and (with `group`) the
        git processes it started; without, those finish on their own."""
        if self.process is not None:
            if group:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
            self.process.wait()
            self.process = None

    def instances(self) -> dict[int, str]:
        """{pid: handler} of the Lambda instance processes this gateway runs now (Linux /proc:
        the children started as `python -m wikibot.instances <handler> <function>`)."""
        assert self.process is not None
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                    parent = int(f.read().split(") ", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    args = f.read().decode().split("\0")
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if parent == self.process.pid and "wikibot.instances" in args:
                found[int(entry)] = args[args.index("wikibot.instances") + 1]
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:  # the gateway gives its instances a few seconds to end
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def code_exchange(code: str, client_id: str, verifier: str) -> dict[str, str]:
    """The /token form that redeems an authorization code (PKCE, the test redirect URI)."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client_id,
        "code_verifier": verifier,
    }


def approve(
    authorization_url: str, key: str, name: str = "", email: str = "", action: str = "approve"
) -> requests.Response:
    """What the person does in the browser: open /authorize, get sent to the approval page,
    submit it. Returns the approval page's answer (a 303 to the client's redirect URI)."""
    start = requests.get(authorization_url, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    page_url = start.headers["Location"]
    page = requests.get(page_url + "&with=key", timeout=10)  # a wiki with accounts: sign-in first
    assert page.status_code == 200 and "Allow access" in page.text
    request_id = parse_qs(urlsplit(page_url).query)["request"][0]
    form = {"request": request_id, "key": key, "name": name, "email": email, "action": action}
    return requests.post(page_url.split("?")[0], data=form, allow_redirects=False, timeout=10)


@dataclass
class Authorization:
    """A registered public client's /authorize URL (PKCE) and what redeeming its code needs."""

    url: str
    client_id: str
    verifier: str
    state: str


def start_authorization(base: str, client_name: str = "pytest") -> Authorization:
    """Register a public client with the test redirect URI and build its /authorize URL."""
    client = requests.post(
        base + "/register",
        json={
            "client_name": client_name,
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
        timeout=10,
    ).json()
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return Authorization(
        f"{base}/authorize?{urlencode(query)}", client["client_id"], verifier, state
    )


def redeem(base: str, auth: Authorization, done: requests.Response) -> dict[str, Any]:
    """The token response for the code the approval page's answer `done` redirects with, plus
    the client's id."""
    assert done.status_code == 303, done.text
    answer = parse_qs(urlsplit(done.headers["Location"]).query)
    assert answer["state"] == [auth.state]
    form = code_exchange(answer["code"][0], auth.client_id, auth.verifier)
    token = requests.post(base + "/token", data=form, timeout=10)
    assert token.status_code == 200, token.text
    return {**token.json(), "client_id": auth.client_id}


def oauth_login(base: str, key: str, name: str = "", email: str = "") -> dict[str, Any]:
    """The whole local OAuth flow by hand (registration, PKCE, approval, token): the token
    response, plus the client's id."""
    auth = start_authorization(base)
    return redeem(base, auth, approve(auth.url, key, name, email))


async def call_tool(url: str, token: str, tool: str, args: dict[str, Any]) -> Any:
    """One tool call over Streamable HTTP with the FastMCP client; the CallToolResult."""
    from fastmcp import Client

    async with Client(url, auth=token) as client:
        return await client.call_tool(tool, args, raise_on_error=False)


def tool(url: str, token: str, name: str, **args: Any) -> Any:
    """Call a tool; its structured answer, or the error text as `{"error": ...}`."""
    result = run(call_tool(url, token, name, args))
    if result.is_error:
        return {"error": result.content[0].text}
    return result.structured_content


class JwksServer:
    """An AuthKit stand-in on 127.0.0.1: /oauth2/jwks with the test's public keys, and
    authorization-server metadata."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path == "/oauth2/jwks":
                    payload: dict[str, Any] = outer.jwks
                elif self.path == "/.well-known/oauth-authorization-server":
                    payload = {"issuer": outer.url, "authorization_endpoint": outer.url + "/auth"}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, every: float = 0.5) -> T | None:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


# -- fixtures shared by the MCP test modules (import them by name) -----------------------------
@dataclass(frozen=True)
class McpTarget:
    """An MCP endpoint to test: its URL, a token for it, and the git author its writes get."""

    url: str
    token: str
    author: tuple[str, str]
    backend: str


OLIVE = ("Olive Oauth", "olive@example.org")
SAM = ("Sam Static", "sam@example.org")
STATIC_TOKEN = "static-test-token"


BACKENDS = {"inprocess": "inwiki_mcp", "http": "standalone_mcp"}
"""Test id -> the fixture serving MCP over that backend (the wiki's /mcp; the separate app)."""


def backend_target(request: pytest.FixtureRequest, backend: str) -> McpTarget:
    return request.getfixturevalue(BACKENDS[backend])


@pytest.fixture(scope="session")
def inwiki_mcp(live_url: str) -> McpTarget:
    """The wiki's own /mcp (in-process backend), logged in through its local OAuth server with
    the write key, as Olive."""
    from conftest import KEYS

    login = oauth_login(live_url, KEYS["write"], *OLIVE)
    return McpTarget(live_url + "/mcp", login["access_token"], OLIVE, "inprocess")


@pytest.fixture(scope="session")
def standalone_mcp(live_url: str) -> Iterator[McpTarget]:
    """The separate MCP app (HTTP backend to the wiki's REST API with an admin key, which may
    commit on behalf of the signed-in user), served by
    uvicorn, with a static token for Sam."""
    from conftest import KEYS
    from otterwiki_mcp.standalone import create_app

    tokens = [{"token": STATIC_TOKEN, "name": SAM[0], "email": SAM[1]}]
    app = create_app(
        {
            "WIKIBOT_MCP_AUTH": "tokens",
            "WIKIBOT_MCP_TOKENS": json.dumps(tokens),
            "WIKIBOT_API_URL": live_url,
            "WIKIBOT_API_KEY": KEYS["admin"],
        }
    )
    with Uvicorn(app) as server:
        yield McpTarget(server.url + "/mcp", STATIC_TOKEN, SAM, "http")
