"""End to end through the API Gateway: the deployed stack when WIKIBOT_E2E_URL is set (with
WIKIBOT_E2E_API_KEY, an admin key, and WIKIBOT_E2E_MCP_TOKEN, a static MCP token, for the tests
that write), else `wikibot serve --instances 3` (both Lambda handlers behind the local gateway,
each in up to three instance processes) in a subprocess on a temporary data folder.

The browser tests drive a real headless Chromium through chromedriver's WebDriver HTTP API."""

from __future__ import annotations

import base64
import html.parser
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import pytest
import requests
from conftest import ROOT, csrf_token
from mcp_helpers import WikiServe, free_port, oauth_login, wait_for
from mcp_helpers import tool as _tool

# `e2e` marks the tests through a gateway to the real functions (the local `wikibot serve` or
# WIKIBOT_E2E_URL's stack); the gateway's own tests at the end run it in-process and are not e2e
e2e = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass(frozen=True)
class Stack:
    url: str
    api_key: str | None
    mcp_token: str | None
    local: bool
    mcp_author: str | None = None
    repository: str | None = None  # the local gateway's, for commits from outside

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        if not self.api_key:
            pytest.skip("WIKIBOT_E2E_API_KEY is not set")
        headers = {"Authorization": f"Bearer {self.api_key}", **kw.pop("headers", {})}
        return requests.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kw
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    deployed = os.environ.get("WIKIBOT_E2E_URL")
    if deployed:
        yield Stack(
            deployed.rstrip("/"),
            os.environ.get("WIKIBOT_E2E_API_KEY"),
            os.environ.get("WIKIBOT_E2E_MCP_TOKEN"),
            local=False,
        )
        return
    if not os.path.isfile(os.path.join(ROOT, "lambda_init.py")):
        pytest.skip("lambda_init.py is not there yet: the local gateway serves its handlers")
    key, token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    author = "E2E Token <e2e-token@example.org>"
    env = {"WIKIBOT_API_KEY": key, "WIKIBOT_MCP_TOKEN": token, "WIKIBOT_MCP_TOKEN_AUTHOR": author}
    # three instances of each function, as Lambda scales out: concurrent tests' requests land
    # in different processes sharing the data folder
    data = str(tmp_path_factory.mktemp("e2e") / "data")
    server = WikiServe(data, env, "--instances", "3").start()
    try:
        repository = os.path.join(server.data_dir, "repository")
        yield Stack(server.url, key, token, True, "E2E Token", repository)
    finally:
        server.stop()


@pytest.fixture
def page(stack: Stack, unique: str) -> Iterator[str]:
    """A fresh page path with a space (which the gateway carries through the decoded rawPath),
    written as Otterwiki shows it, deleted afterwards."""
    path = f"Gateway/{unique} Trip"
    yield path
    if stack.api_key:
        stack.api("DELETE", "/pages/" + quote(path), json={})


def tool(url: str, token: str, name: str, **args: Any) -> Any:
    """An MCP tool call on a thread of its own: `asyncio.run` in the main thread would leave it
    without an event loop, which later modules (Pulumi's mocks) expect to find."""
    with ThreadPoolExecutor(1) as worker:
        return worker.submit(_tool, url, token, name, **args).result()


def _json(resp: requests.Response) -> Any:
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    return resp.json()


# -- MCP and OAuth discovery (routed to the MCP function) ---------------------------------------
@e2e
def test_mcp_without_token_is_401_naming_the_protected_resource(stack: Stack) -> None:
    resp = requests.post(stack.url + "/mcp", json={}, timeout=30)
    assert resp.status_code == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer") and "resource_metadata=" in challenge
    metadata_url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
    assert urlsplit(metadata_url).path == "/.well-known/oauth-protected-resource/mcp"


@e2e
def test_discovery_documents(stack: Stack) -> None:
    resource = _json(
        requests.get(stack.url + "/.well-known/oauth-protected-resource/mcp", timeout=30)
    )
    assert resource["resource"].endswith("/mcp")
    assert resource["authorization_servers"]
    server = _json(requests.get(stack.url + "/.well-known/oauth-authorization-server", timeout=30))
    for key in ("issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"):
        assert server.get(key), (key, server)
    assert "code" in server["response_types_supported"]
    assert "S256" in server.get("code_challenge_methods_supported", [])


@e2e
def test_get_mcp_is_405(stack: Stack) -> None:
    assert requests.get(stack.url + "/mcp", timeout=30).status_code == 405


@e2e
def test_mcp_tool_call_with_static_token(stack: Stack, page: str) -> None:
    if not stack.mcp_token:
        pytest.skip("WIKIBOT_E2E_MCP_TOKEN is not set")
    url = stack.url + "/mcp"
    written = tool(url, stack.mcp_token, "write_note", path=page, content="# Via MCP\n\nhello")
    assert written.get("created") is True, written
    read = tool(url, stack.mcp_token, "read_note", path=page)
    assert read["content"] == "# Via MCP\n\nhello"
    # the MCP function wrote through the REST API of the wiki function, behind the same gateway
    got = _json(stack.api("GET", "/pages/" + quote(page)))
    assert got["revision"] == written["revision"]
    if stack.mcp_author:
        assert got["last_commit"]["author"] == stack.mcp_author


@e2e
def test_local_oauth_login_then_tool_call(stack: Stack, page: str) -> None:
    """Registration, approval form (a base64 form body for Mangum), token, tool call: the whole
    local OAuth flow through the gateway; the signed-in name becomes the commit's author."""
    if not stack.local:
        pytest.skip("the deployed stack signs in with WorkOS AuthKit")
    assert stack.api_key
    login = oauth_login(stack.url, stack.api_key, "Olga Oauth", "olga@example.org")
    written = tool(stack.url + "/mcp", login["access_token"], "write_note", path=page, content="x")
    assert written.get("created") is True, written
    got = _json(stack.api("GET", "/pages/" + quote(page)))
    assert got["last_commit"]["author"] == "Olga Oauth"


# -- the wiki ($default) -------------------------------------------------------------------------
@e2e
def test_home_page_is_the_wiki(stack: Stack) -> None:
    resp = requests.get(stack.url + "/Home", timeout=30)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert "<html" in resp.text and "otterwiki" in resp.text.lower()
    assert "session=" in resp.headers.get("Set-Cookie", "")


class _Assets(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.css: list[str] = []
        self.images: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "stylesheet" and a.get("href"):
            self.css.append(a["href"] or "")
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"] or "")
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"] or "")


@e2e
def test_home_page_assets_arrive_intact(stack: Stack) -> None:
    """Stylesheets, scripts and images of /Home through the gateway: status, type and (locally)
    the bytes of Otterwiki's own files, so base64 bodies survive both ways."""
    home = requests.get(stack.url + "/Home", timeout=30)
    assets = _Assets()
    assets.feed(home.text)
    assert len(assets.css) >= 3 and assets.images and assets.scripts
    kinds = [(assets.css, "text/css"), (assets.images, "image/"), (assets.scripts, "javascript")]
    import otterwiki

    static = os.path.join(os.path.dirname(otterwiki.__file__), "static")
    compared = 0
    for urls, kind in kinds:
        for href in urls:
            resp = requests.get(urljoin(stack.url + "/Home", href), timeout=30)
            assert resp.status_code == 200, href
            assert kind in resp.headers["content-type"], (href, resp.headers["content-type"])
            path = urlsplit(href).path
            local = os.path.join(static, path.removeprefix("/static/"))
            if stack.local and path.startswith("/static/") and os.path.isfile(local):
                with open(local, "rb") as f:
                    assert resp.content == f.read(), href
                compared += 1
    assert compared >= 3


# -- the REST API ($default) ---------------------------------------------------------------------
@e2e
def test_rest_health_and_page_round_trip(stack: Stack, page: str) -> None:
    assert _json(requests.get(stack.url + "/api/v1/health", timeout=30)) == {"status": "ok"}
    content = "# Round trip\n\nthrough the gateway, with ünïcode"
    put = stack.api("PUT", "/pages/" + quote(page), json={"content": content})
    assert put.status_code == 201, put.text
    got = _json(stack.api("GET", "/pages/" + quote(page)))
    assert got["content"] == content and got["path"] == page
    edited = stack.api(
        "PATCH",
        "/pages/" + quote(page),
        json={"revision": got["revision"], "old_string": "Round", "new_string": "Full"},
    )
    assert edited.status_code == 200, edited.text
    folder = page.rsplit("/", 1)[0] + "/"
    listed = _json(stack.api("GET", "/pages", params={"prefix": folder, "limit": 500}))
    assert page in [p["path"] for p in listed["pages"]]
    assert stack.api("GET", "/pages/" + quote(page)).json()["content"].startswith("# Full trip")


@e2e
def test_unsupported_methods_are_405_with_allow(stack: Stack) -> None:
    """TRACE and methods nobody serves reach the function, which answers 405 with `Allow`
    (the gateway's own HTTP server used to answer 501 in HTML)."""
    for method in ("TRACE", "PROPFIND"):
        resp = requests.request(method, stack.url + "/api/v1/pages", timeout=30)
        assert resp.status_code == 405, resp.text
        assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"
        assert resp.json()["code"] == "method_not_allowed"


# HTTP APIs URL-decode rawPath and apig-wsgi unquotes it again as latin-1; lambda_init re-quotes
# it, or a non-ASCII path would reach Otterwiki mangled.
@e2e
def test_non_ascii_page_path(stack: Stack, page: str) -> None:
    path = page.replace(" Trip", " Über")
    try:
        put = stack.api("PUT", "/pages/" + quote(path), json={"content": "umlaut"})
        assert put.status_code == 201, put.text
        assert _json(stack.api("GET", "/pages/" + quote(path)))["path"] == path
    finally:
        stack.api("DELETE", "/pages/" + quote(path), json={})


@e2e
def test_web_editor_form_post_reaches_the_api(stack: Stack, page: str) -> None:
    """The editor's form post (a base64 body in the event) with the session cookie (the event's
    `cookies`) and its CSRF token; the REST API then returns the saved page."""
    web = requests.Session()
    form = web.get(f"{stack.url}/{quote(page)}/edit", timeout=30)
    assert form.status_code == 200
    saved = web.post(
        f"{stack.url}/{quote(page)}/save",
        data={
            "content": "saved by a form post",
            "commit": "e2e form",
            "csrf_token": csrf_token(form.text),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert saved.status_code in (302, 303), saved.text[:500]
    got = _json(stack.api("GET", "/pages/" + quote(page)))
    assert got["content"].rstrip("\n") == "saved by a form post"  # Otterwiki ends it with one
    assert got["last_commit"]["message"] == "e2e form"


# -- a real browser ----------------------------------------------------------------------------
class WebDriver:
    """Just enough of the W3C WebDriver protocol, spoken to chromedriver over HTTP."""

    def __init__(self, tmp: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)
        self.log = open(os.path.join(tmp, "chromedriver.log"), "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}"], stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                if requests.get(self.base + "/status", timeout=2).json()["value"]["ready"]:
                    break
            except (requests.ConnectionError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        options = {"binary": CHROMIUM, "args": [*CHROMIUM_ARGS, f"--user-data-dir={self.profile}"]}
        caps = {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}
        self.session = self._call("POST", "/session", {"capabilities": caps})["sessionId"]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        resp = requests.request(method, self.base + path, json=body, timeout=60)
        value = resp.json()["value"]
        if resp.status_code != 200:
            raise AssertionError(f"WebDriver {method} {path}: {value}")
        return value

    def cmd(self, method: str, path: str, body: Any = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def get(self, url: str) -> None:
        self.cmd("POST", "/url", {"url": url})

    def js(self, script: str, *args: Any) -> Any:
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str:
        found = self.cmd("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def click(self, css: str) -> None:
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        self.cmd("POST", f"/element/{element}/clear", {})
        self.cmd("POST", f"/element/{element}/value", {"text": text})

    def wait(self, script: str, timeout: float = 15) -> Any:
        return wait_for(lambda: self.js(script), timeout, every=0.1)

    def close(self) -> None:
        try:
            self.cmd("DELETE", "")
        finally:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    for program in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(program):
            pytest.skip(f"{program} is missing (apt-get install -y chromium chromium-driver)")
    driver = WebDriver(str(tmp_path_factory.mktemp("browser")))
    try:
        yield driver
    finally:
        driver.close()


PAGE_LOAD = """
const sheets = [...document.styleSheets].filter(s => s.href).map(s => {
  let rules = -1; try { rules = s.cssRules.length } catch (e) {}
  return {href: s.href, rules: rules};
});
const images = [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0}));
const failed = performance.getEntriesByType('resource')
  .filter(r => r.responseStatus !== undefined && r.responseStatus !== 200)
  .map(r => [r.name, r.responseStatus]);
const font = getComputedStyle(document.body).fontFamily;
const scripted = typeof otterwiki !== 'undefined';  // otterwiki.js ran
return {title: document.title, otterwiki: scripted, sheets: sheets, images: images,
        failed: failed, font: font};
"""


@e2e
def test_browser_loads_home_with_styles_and_images(stack: Stack, browser: WebDriver) -> None:
    browser.get(stack.url + "/Home")
    browser.wait("return document.readyState === 'complete'")
    loaded = browser.js(PAGE_LOAD)
    assert loaded["title"] and loaded["otterwiki"], loaded
    assert loaded["failed"] == [], loaded["failed"]
    screen = [s for s in loaded["sheets"] if "print" not in s["href"]]
    assert len(screen) >= 3 and all(s["rules"] > 0 for s in screen if "custom" not in s["href"]), (
        screen
    )
    assert loaded["images"] and all(i["ok"] for i in loaded["images"]), loaded["images"]
    assert "Roboto" in loaded["font"] or "sans" in loaded["font"], loaded["font"]


@e2e
def test_browser_saves_an_edit_the_api_returns(stack: Stack, browser: WebDriver, page: str) -> None:
    if not stack.api_key:
        pytest.skip("WIKIBOT_E2E_API_KEY is not set")
    browser.get(f"{stack.url}/{quote(page)}/edit")
    assert browser.wait("return typeof cm_editor !== 'undefined' && !!cm_editor.state"), (
        "the editor did not start (its scripts did not load?)"
    )
    text = "# Saved in Chromium\n\nthrough the web editor and the gateway"
    replace = "cm_editor.dispatch({changes: {from: 0, to: cm_editor.state.doc.length, insert: %s}})"
    browser.js(replace % "arguments[0]", text)
    browser.click("#save-page-btn")
    browser.wait(
        "return getComputedStyle(document.getElementById('modal-commit')).display !== 'none'"
    )
    # the modal fades in: type once its field can take keys (Chromium refuses it before)
    wait_for(lambda: _typed(browser, "#commit-message", "saved in chromium"), 15, every=0.1)
    browser.click("#modal-commit input[type=submit]")
    assert browser.wait(
        "return !location.pathname.endsWith('/edit') && document.readyState === 'complete'"
    )
    shown = browser.js("return document.body.innerText")
    assert "Saved in Chromium" in shown
    got = _json(stack.api("GET", "/pages/" + quote(page)))
    assert got["content"].replace("\r\n", "\n").rstrip("\n") == text
    assert got["last_commit"]["message"] == "saved in chromium"


@e2e
def test_uploads_over_what_lambda_carries_get_a_clear_error(stack: Stack, page: str) -> None:
    """Below Lambda's 6 MB the REST API refuses what is over its limit in JSON, naming it;
    above, API Gateway answers 413 itself (the local gateway as AWS does)."""
    if not stack.local:
        pytest.skip("the deployed stack's limits are AWS's")
    stack.api("PUT", "/pages/" + quote(page), json={"content": "x"})
    url = "/pages/" + quote(page) + "/attachments"
    near = {"filename": "near.bin", "content": "A" * 5_700_000}
    resp = stack.api("POST", url, json=near)
    assert resp.status_code == 413 and "WIKIBOT_API_MAX_BODY_BYTES" in resp.json()["error"]
    over = {"filename": "over.bin", "content": "A" * 7_000_000}
    resp = stack.api("POST", url, json=over)
    assert resp.status_code == 413 and resp.json() == {"message": "Request Entity Too Large"}


@e2e
def test_a_20_mb_attachment_downloads_whole_through_s3(stack: Stack, page: str) -> None:
    """Over Lambda's 6 MB the wiki function stores the answer in S3 and redirects to a
    presigned URL (locally: moto's S3 server on 127.0.0.1, the boto3 client unchanged)."""
    if not stack.repository:
        pytest.skip("needs the local gateway's repository")
    data = os.urandom(20 * 2**20)
    stack.api("PUT", "/pages/" + quote(page), json={"content": "big file below"})
    folder = os.path.join(stack.repository, page.lower())
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "big.bin"), "wb") as f:
        f.write(data)
    external = {"GIT_AUTHOR_NAME": "e", "GIT_AUTHOR_EMAIL": "e@x", "GIT_COMMITTER_NAME": "e"}
    env = {**os.environ, **external, "GIT_COMMITTER_EMAIL": "e@x"}
    for args in (["add", "--", page.lower()], ["commit", "-q", "-m", "a big file"]):
        subprocess.run(["git", *args], cwd=stack.repository, env=env, check=True)
    url = f"{stack.url}/{quote(page)}/a/big.bin"
    first = requests.get(url, timeout=120, allow_redirects=False)
    assert first.status_code == 302 and first.headers["Location"].startswith("http://127.0.0.1")
    got = requests.get(url, timeout=120)
    assert got.status_code == 200 and got.content == data
    assert "big.bin" in got.headers["Content-Disposition"]


@e2e
def test_otterwikis_largest_static_file_arrives_whole(stack: Stack) -> None:
    """mermaid's 5.5 MB script passes Lambda's 6 MB limit only compressed (it used to be a 500
    through the gateway, and every diagram showed as text)."""
    import otterwiki

    name = "js/mermaid@12.2.0.min.js"
    with open(os.path.join(os.path.dirname(otterwiki.__file__), "static", name), "rb") as f:
        expected = f.read()
    resp = requests.get(f"{stack.url}/static/{name}", timeout=60)  # requests accepts gzip
    assert resp.status_code == 200, resp.text[:200]
    assert resp.headers["Content-Encoding"] == "gzip" and resp.content == expected
    assert "immutable" in resp.headers["Cache-Control"]


@e2e
def test_browser_renders_a_mermaid_diagram(stack: Stack, browser: WebDriver, page: str) -> None:
    diagram = "# Flow\n\n```mermaid\ngraph TD\n  Start --> Finish\n```\n"
    assert stack.api("PUT", "/pages/" + quote(page), json={"content": diagram}).status_code == 201
    browser.get(f"{stack.url}/{quote(page)}")
    assert browser.wait("return document.querySelectorAll('.mermaid svg').length > 0", 30), (
        browser.js("return document.body.innerText")
    )
    labels = browser.js("return document.querySelector('.mermaid svg').textContent")
    assert "Start" in labels and "Finish" in labels


def _typed(browser: WebDriver, css: str, text: str) -> bool:
    try:
        browser.type(css, text)
    except AssertionError as e:  # "element not interactable" while it is still appearing
        if "not interactable" not in str(e):
            raise
        return False
    return True


# -- the gateway itself, with handlers that only record ---------------------------------------
@pytest.fixture
def recording() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]], dict[str, Any]]]:
    """A local gateway on the plan of an MCP app declaring only its endpoint, whose two
    handlers record their events and answer what the test puts in `answers`."""
    from wikibot import gateway, routeplan

    seen: list[tuple[str, dict[str, Any]]] = []
    answers: dict[str, Any] = {}

    def handler(name: str) -> Any:
        def handle(event: dict[str, Any], context: Any) -> Any:
            assert context.get_remaining_time_in_millis() > 0
            seen.append((name, event))
            answer = answers.get(name, {"statusCode": 200, "body": name})
            return answer(event) if callable(answer) else answer

        return handle

    gw = gateway.Gateway(
        routeplan.build_plan([]), {"wiki": handler("wiki"), "mcp": handler("mcp")}, timeout=2
    )
    server = gateway.GatewayServer("127.0.0.1", 0, gw, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}", seen, answers
    finally:
        server.shutdown()
        server.server_close()


def test_gateway_builds_payload_2_events(recording: Any) -> None:
    url, seen, _ = recording
    resp = requests.get(
        url + "/mcp/some%20thing/x?a=1&a=2&b=&c=%C3%BC",
        headers={"Cookie": "s=1; t=2", "X-Dup": "one", "User-Agent": "pytest"},
        timeout=10,
    )
    assert resp.status_code == 200 and resp.text == "mcp"
    name, event = seen[-1]
    assert name == "mcp" and event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "ANY /mcp/{proxy+}"
    assert event["rawPath"] == "/mcp/some thing/x"
    assert event["pathParameters"] == {"proxy": "some thing/x"}
    assert event["rawQueryString"] == "a=1&a=2&b=&c=%C3%BC"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "", "c": "ü"}
    assert event["cookies"] == ["s=1", "t=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-dup"] == "one" and event["headers"]["user-agent"] == "pytest"
    assert all(k == k.lower() for k in event["headers"])
    http = event["requestContext"]["http"]
    assert http == {
        "method": "GET",
        "path": "/mcp/some thing/x",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest",
    }
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["domainName"] == "127.0.0.1"
    assert "body" not in event and event["isBase64Encoded"] is False

    requests.get(url + "/Home", timeout=10)
    name, event = seen[-1]
    assert (name, event["routeKey"], event.get("pathParameters")) == ("wiki", "$default", None)


def test_gateway_bodies_text_or_base64(recording: Any) -> None:
    url, seen, _ = recording
    requests.post(url + "/api/v1/x", json={"a": "ü"}, timeout=10)
    event = seen[-1][1]
    assert event["isBase64Encoded"] is False and event["body"] == '{"a": "\\u00fc"}'
    requests.post(url + "/save", data={"content": "ü"}, timeout=10)  # a form post: base64
    event = seen[-1][1]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"content=%C3%BC"
    assert event["headers"]["content-length"] == str(len(b"content=%C3%BC"))


def test_gateway_answers(recording: Any) -> None:
    url, _, answers = recording
    answers["wiki"] = {
        "statusCode": 201,
        "headers": {"content-type": "image/png", "x-one": "1"},
        "multiValueHeaders": {"x-many": ["a", "b"]},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": base64.b64encode(b"\x89PNG\x00\xff").decode(),
        "isBase64Encoded": True,
    }
    resp = requests.get(url + "/img", timeout=10)
    assert resp.status_code == 201 and resp.content == b"\x89PNG\x00\xff"
    assert resp.headers["content-type"] == "image/png" and resp.headers["x-one"] == "1"
    assert resp.raw.headers.getlist("x-many") == ["a", "b"]
    assert resp.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2"]
    answers["wiki"] = {"no": "statusCode"}  # API Gateway: a 200 JSON body
    resp = requests.get(url + "/json", timeout=10)
    assert resp.status_code == 200 and resp.json() == {"no": "statusCode"}

    def fail(event: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    answers["wiki"] = fail
    resp = requests.get(url + "/fail", timeout=10)
    assert resp.status_code == 500 and resp.json() == {"message": "Internal Server Error"}
    answers["wiki"] = lambda event: time.sleep(2.5)  # longer than the gateway's 2 s
    resp = requests.get(url + "/slow", timeout=10)
    assert resp.status_code == 503 and resp.json() == {"message": "Service Unavailable"}
