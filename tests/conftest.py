"""Shared fixtures: one real Otterwiki app (the server module is a process-wide singleton) on a
temporary git repository with every wikibot plugin, reachable through Flask's test client and
through a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

KEYS = {"admin": "test-admin-key", "write": "test-write-key", "read": "test-read-key"}
AUTHORS = {
    "admin": ("Ada Admin", "ada@example.org"),
    "write": ("Wendy Writer", "wendy@example.org"),
    "read": ("Rita Reader", "rita@example.org"),
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def keys_json() -> str:
    return json.dumps(
        [
            {
                "name": s,
                "key": k,
                "scope": s,
                "author_name": AUTHORS[s][0],
                "author_email": AUTHORS[s][1],
            }
            for s, k in KEYS.items()
        ]
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from wikibot import localwiki

    return localwiki.prepare(str(tmp_path_factory.mktemp("wiki")))


@pytest.fixture(scope="session")
def app(data_dir: Any) -> Any:
    from wikibot import localwiki

    os.environ["WIKIBOT_API_KEYS"] = keys_json()
    os.environ["WIKIBOT_ACCESS"] = "open"  # a test wiki on loopback: Otterwiki's own defaults
    os.environ["WIKIBOT_SEARCH_WARM_UP"] = "0"  # the tests drive the index (test_search_warm_up)
    os.environ.pop("WIKIBOT_API_KEY", None)
    os.environ.pop("OTTERWIKI_API_KEY", None)
    app = localwiki.create_app(data_dir)
    if app.config["REPOSITORY"] != data_dir.repository:
        pytest.exit("otterwiki.server was imported before the test fixture configured it")
    return app


@pytest.fixture(scope="session")
def repo(data_dir: Any) -> str:
    return data_dir.repository


class Api:
    """Calls /api/v1 through Flask's test client or real HTTP, with a key of a given scope."""

    def __init__(self, client: Any = None, base_url: str | None = None) -> None:
        self.client = client
        self.base_url = base_url

    def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "admin",
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        hdrs = dict(headers or {})
        if key:
            hdrs["Authorization"] = f"Bearer {KEYS.get(key, key)}"
        url = "/api/v1" + path
        if self.client is not None:
            resp = self.client.open(
                url, method=method, json=json_body, query_string=params, data=data, headers=hdrs
            )
            body = resp.get_json(silent=True)
            return resp.status_code, body if body is not None else resp.data, dict(resp.headers)
        resp = requests.request(
            method,
            self.base_url + url,
            json=json_body,
            params=params,
            data=data,
            headers=hdrs,
            timeout=60,
        )
        try:
            body = resp.json()
        except ValueError:
            body = resp.content
        return resp.status_code, body, dict(resp.headers)

    def get(self, path: str, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("GET", path, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("PUT", path, json_body=body, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("POST", path, json_body=body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> tuple[int, Any, dict[str, str]]:
        return self.call("DELETE", path, json_body=body, **kw)


@pytest.fixture(scope="session")
def live_url(app: Any) -> Iterator[str]:
    """The same app behind a real threaded HTTP server on 127.0.0.1."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(params=["flask", "http"])
def api(request: pytest.FixtureRequest, app: Any) -> Api:
    """Each test using this runs twice: through the test client and over real HTTP."""
    if request.param == "flask":
        return Api(client=app.test_client())
    return Api(base_url=request.getfixturevalue("live_url"))


@pytest.fixture
def client_api(app: Any) -> Api:
    return Api(client=app.test_client())


@pytest.fixture
def unique() -> str:
    """A fresh page-name prefix of letters (so Otterwiki shows it as-is), so tests sharing the
    one wiki never collide."""
    return "T" + "".join(chr(97 + int(c, 16)) for c in uuid.uuid4().hex[:10])


def git(repo: str, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", "-c", "core.quotepath=off", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    ).stdout


def last_author(repo: str, filename: str) -> tuple[str, str]:
    """(name, email) of the last commit that touched `filename`."""
    name, email = git(repo, "log", "-1", "--format=%an|%ae", "--", filename).strip().split("|")
    return name, email


def external_commit(repo: str, filename: str, content: str, message: str = "external") -> str:
    """Commit a file with plain git from another process, as a `git pull` or another Lambda
    instance would."""
    script = (
        "import pathlib, subprocess, sys\n"
        "repo, name, content, msg = sys.argv[1:5]\n"
        "p = pathlib.Path(repo, name); p.parent.mkdir(parents=True, exist_ok=True)\n"
        "p.write_text(content, encoding='utf-8')\n"
        "env = {'GIT_AUTHOR_NAME': 'Ext', 'GIT_AUTHOR_EMAIL': 'ext@example.org',\n"
        "       'GIT_COMMITTER_NAME': 'Ext', 'GIT_COMMITTER_EMAIL': 'ext@example.org',\n"
        "       'PATH': __import__('os').environ['PATH']}\n"
        "subprocess.run(['git', 'add', '--', name], cwd=repo, check=True, env=env)\n"
        "subprocess.run(['git', 'commit', '-q', '-m', msg], cwd=repo, check=True, env=env)\n"
    )
    subprocess.run([sys.executable, "-c", script, repo, filename, content, message], check=True)
    return git(repo, "rev-parse", "HEAD").strip()


def wait_until_healthy(
    url: str,
    process: subprocess.Popen | None = None,
    log: str | None = None,
    timeout: float = 60,
    request_timeout: float = 2,
) -> None:
    """Poll `<url>/api/v1/health` until it answers 200; fail at once, with the end of `log`, if
    `process` exits first."""

    def tail() -> str:
        return open(log).read()[-3000:] if log else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url} exited before it was ready: {tail()}")
        try:
            if requests.get(url + "/api/v1/health", timeout=request_timeout).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start within {timeout:.0f} s: {tail()}")


def assert_semantic_index_equals_head(url: str, key: str, repo: str) -> None:
    """Drive `POST /api/v1/reindex` in bounded steps, as a client does, until the semantic index
    is complete; it must then reflect HEAD and hold every page."""
    status: dict[str, Any] = {}
    for _ in range(200):
        status = requests.post(
            f"{url}/api/v1/reindex",
            json={},
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        ).json()
        if status["status"] == "complete":
            break
    assert status["status"] == "complete", status
    assert status["index_head"] == git(repo, "rev-parse", "HEAD").strip()
    files = git(repo, "ls-tree", "-r", "--name-only", "HEAD").split("\n")
    assert status["pages"] == len([f for f in files if f.endswith(".md")])


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf_token in the form"
    return match.group(1)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is a failed run: a missing component (Chromium, the MCP extra) must not
    pass as green. Skips are expected only against a deployed stack (WIKIBOT_E2E_URL, where the
    tests that need the local gateway skip) or when asked for (WIKIBOT_ALLOW_SKIPS=1, for a
    quick local loop on a machine without Chromium)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    allowed = os.environ.get("WIKIBOT_E2E_URL") or os.environ.get("WIKIBOT_ALLOW_SKIPS") == "1"
    if skipped and not allowed and exitstatus == 0:
        reporter.write_line(
            f"{skipped} test(s) skipped: a component the suite needs is missing (see the skip "
            "reasons above); set WIKIBOT_ALLOW_SKIPS=1 to accept that locally",
            red=True,
        )
        session.exitstatus = 1
