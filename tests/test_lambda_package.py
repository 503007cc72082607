"""The Lambda packages work on their own: `wikibot build-lambda` output, unzipped, serves API
Gateway (payload 2.0) events through `lambda_init.handler` and `lambda_init.mcp_handler` in an
isolated interpreter whose only import path besides the standard library is the unzipped
package: no site-packages, and no metadata of wikibot's own, so no `otterwiki` entry points.

The deployed packages target the Lambda runtime (Python 3.12). When a Python 3.12 is found here
the test builds exactly those and runs them with it; otherwise (compiled wheels for 3.12 do not
import under another Python) it builds the same packages, from the same code, for the running
interpreter's version. Needs the package index (pip), as CI has.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import INITIALIZE

from wikibot import lambda_build, routeplan
from wikibot.cli import build_parser

RUNTIME = "3.12"
PYTHON = RUNTIME if lambda_build.find_python(RUNTIME) else "{}.{}".format(*sys.version_info[:2])
INTERPRETER = lambda_build.find_python(PYTHON) or sys.executable
API_KEY = "lambda-test-api-key-0123456789abcdef"
MCP_TOKEN = "lambda-test-mcp-token-0123456789"
CSS = "/static/css/otterwiki.css"

DRIVER = r"""
import base64, json, sys, time
t0 = time.monotonic()
sys.path.insert(0, sys.argv[1])
which, calls = sys.argv[2], json.loads(sys.argv[3])

def event(method, path, headers, body):
    headers = {"host": "wiki.example.org", "x-forwarded-proto": "https", **headers}
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers, "body": body, "isBase64Encoded": False,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "wiki.example.org",
            "domainPrefix": "wiki", "requestId": "id", "routeKey": "$default",
            "stage": "$default", "time": "22/Nov/2026:00:00:00 +0000", "timeEpoch": 0,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "test"},
        },
    }

import lambda_init
handle = getattr(lambda_init, which)
out = []
for method, path, headers, body in calls:
    r = handle(event(method, path, headers, body), None)
    raw = base64.b64decode(r["body"]) if r.get("isBase64Encoded") else r["body"].encode()
    out.append({"status": r["statusCode"], "headers": r.get("headers", {}),
                "body": base64.b64encode(raw).decode(), "t": time.monotonic() - t0})
mods = sorted(m for m in ("fastmcp", "mcp", "otterwiki.server", "torch") if m in sys.modules)
# imported only when needed: the MCP function's cold start skips them (issue 13)
extras = sorted(m for m in ("griffe", "yaml") if m in sys.modules)
print(json.dumps({"responses": out, "modules": mods, "extras": extras,
                  "paths": [p for p in sys.path if "site-packages" in p]}))
"""


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("lambda")
    built = lambda_build.build(
        str(out / "zips"), python_version=PYTHON, allow_s3=True, log=lambda _: None
    )
    folders = {}
    for package in built:
        folder = out / package.name
        with zipfile.ZipFile(package.path) as archive:
            archive.extractall(folder)
        folders[package.name] = folder
    return folders


def run_isolated(folder: Path, which: str, calls: list[Any], env: dict[str, str]) -> dict[str, Any]:
    """Serve `calls` through lambda_init.<which> in `python -I -S` with only `folder` added."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [INTERPRETER, "-I", "-S", "-c", DRIVER, str(folder), which, json.dumps(calls)],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def body(response: dict[str, Any]) -> bytes:
    import base64

    return base64.b64decode(response["body"])


def unzipped_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


@pytest.mark.slow
def test_sizes_meet_the_150_mb_target_with_the_git_layer(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    """The project's target: each function with its layers at most 150 MB unzipped (Lambda
    allows 250), the wiki function's git layer counted."""
    from wikibot.git_layer import build_git_layer

    layer = build_git_layer(str(tmp_path / "git.zip"), log=lambda _: None)
    wiki = unzipped_size(packages["wiki"]) + layer.size
    mcp = unzipped_size(packages["mcp"])
    print(f"wiki + git layer {wiki / lambda_build.MB:.1f} MB, mcp {mcp / lambda_build.MB:.1f} MB")
    assert wiki <= 150 * lambda_build.MB and mcp <= 150 * lambda_build.MB


@pytest.mark.slow
def test_package_contents(packages: dict[str, Path]) -> None:
    wiki, mcp = packages["wiki"], packages["mcp"]
    compiled = lambda_build.find_python(PYTHON) is not None
    dependency = {wiki: Path("otterwiki", "server.py"), mcp: Path("starlette", "routing.py")}
    for folder, module in dependency.items():
        assert (folder / "lambda_init.py").is_file()
        target = json.loads((folder / lambda_build.TARGET_FILE).read_text())
        routes = target.pop("routes", None)
        assert target == {"runtime": f"python{PYTHON}", "architecture": "x86_64"}
        # the MCP package records the code its routes come from: what is installed here (its
        # route libraries are pinned to this environment's), which the stack plans with
        assert routes == (routeplan.route_code(str(folder)) if folder == mcp else None)
        assert folder != mcp or routes == routeplan.route_code()
        assert not list(folder.glob("wikibot-*.dist-info")), "no entry points of our own"
        assert not list(folder.rglob("*.pyi")), "no type stubs"
        # this project's modules keep their sources; the dependencies ship byte code only
        assert (folder / "otterwiki_api" / "service.py").is_file()
        if compiled:
            assert list((folder / "__pycache__").glob("lambda_init.cpython-*.pyc"))
            assert (folder / module.with_suffix(".pyc")).is_file()
            assert not (folder / module).exists()
    for name in ("otterwiki", "otterwiki_api", "otterwiki_search", "numpy", "apig_wsgi"):
        assert (wiki / name).is_dir(), name
    for name in ("faiss", "torch", "sentence_transformers", "fastmcp", "boto3", "Cython"):
        assert not (wiki / name).exists(), f"{name} must not be in the wiki package"
    for name in ("otterwiki_mcp", "otterwiki_api", "fastmcp", "mangum"):
        assert (mcp / name).is_dir(), name
    for name in ("otterwiki", "sqlalchemy", "numpy", "PIL"):
        assert not (mcp / name).exists(), f"{name} must not be in the MCP package"


@pytest.mark.slow
def test_wiki_handler(packages: dict[str, Path], tmp_path: Path) -> None:
    auth = {"authorization": f"Bearer {API_KEY}"}
    page = {**auth, "content-type": "application/json"}
    calls = [
        ["GET", "/api/v1/health", {}, None],
        [
            "PUT",
            "/api/v1/pages/Lambda/Note",
            page,
            json.dumps({"content": "# Note\n\nHi [[Home]]"}),
        ],
        ["GET", "/api/v1/pages/Lambda/Note", auth, None],
        ["GET", "/Home", {}, None],
        ["GET", CSS, {}, None],
        # HTTP APIs pass rawPath URL-decoded.
        ["PUT", "/api/v1/pages/Lambda/Über", page, json.dumps({"content": "umlaut"})],
        ["GET", "/api/v1/pages/Lambda/Über", auth, None],
    ]
    env = {
        "REPOSITORY": str(tmp_path / "repository"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'otterwiki.db'}",
        "SECRET_KEY": "s" * 32,
        "WIKIBOT_API_KEY": API_KEY,
        "WIKIBOT_SEARCH_EMBEDDER": "bedrock",
        "AWS_REGION": "eu-west-1",
        "WIKIBOT_MCP_ENABLED": "false",
        "WIKIBOT_ACCESS": "public",  # anyone reads the Home page (the default is private)
    }
    result = run_isolated(packages["wiki"], "handler", calls, env)
    assert result["paths"] == []
    health, put, get, home, css, put_umlaut, get_umlaut = result["responses"]
    assert put_umlaut["status"] == 201, body(put_umlaut)
    assert json.loads(body(get_umlaut))["path"] == "Lambda/Über"
    assert health["status"] == 200 and json.loads(body(health)) == {"status": "ok"}
    assert put["status"] == 201, body(put)
    note = json.loads(body(get))
    assert get["status"] == 200 and note["content"] == "# Note\n\nHi [[Home]]"
    assert note["revision"] == json.loads(body(put))["revision"]
    assert home["status"] == 200 and home["headers"]["content-type"].startswith("text/html")
    assert b"<html" in body(home)
    assert css["status"] == 200
    assert body(css) == (packages["wiki"] / "otterwiki" / CSS.lstrip("/")).read_bytes()
    # The wiki function never imports the MCP stack (nor torch).
    assert result["modules"] == ["otterwiki.server"]
    # A second cold start finds the repository and the page written by the first.
    again = run_isolated(packages["wiki"], "handler", [calls[2]], env)
    assert json.loads(body(again["responses"][0]))["content"] == note["content"]


@pytest.mark.slow
def test_mcp_handler_many_warm_invocations(packages: dict[str, Path]) -> None:
    headers = {
        "authorization": f"Bearer {MCP_TOKEN}",
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
    }
    tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    rounds = 12
    calls = []
    for _ in range(rounds):
        calls.append(["POST", "/mcp", headers, json.dumps(INITIALIZE)])
        calls.append(["POST", "/mcp", headers, json.dumps(tools)])
    calls.append(["POST", "/mcp", {**headers, "authorization": "Bearer wrong"}, json.dumps(tools)])
    env = {
        "WIKIBOT_API_URL": "http://127.0.0.1:9",
        "WIKIBOT_API_KEY": API_KEY,
        "WIKIBOT_MCP_AUTH": "tokens",
        "WIKIBOT_MCP_TOKEN": MCP_TOKEN,
        "WIKIBOT_MCP_BASE_URL": "https://wiki.example.org",
    }
    result = run_isolated(packages["mcp"], "mcp_handler", calls, env)
    *answers, refused = result["responses"]
    assert len(answers) == 2 * rounds
    for i, response in enumerate(answers):
        assert response["status"] == 200, (i, body(response))
        message = json.loads(body(response))
        if i % 2 == 0:
            assert message["result"]["serverInfo"]["name"] == "wikibot"
        else:
            names = {tool["name"] for tool in message["result"]["tools"]}
            assert {"read_note", "write_note", "search_notes"} <= names
    assert refused["status"] == 401
    assert "otterwiki.server" not in result["modules"]
    # FastMCP's docstring parser and PyYAML stay out of the MCP function (~50 ms of its cold
    # start): the tools hand over their docstrings, sections are read without frontmatter
    assert result["extras"] == []


def test_limits() -> None:
    """Over 250 MB unzipped (with layers) stops the build; over 50 MB zipped needs S3."""
    mb = lambda_build.MB
    small = lambda_build.Package("wiki", "x.zip", 40 * mb, 200 * mb, 1)
    assert lambda_build.check_limits(small, 0, allow_s3=False) == []
    with pytest.raises(lambda_build.BuildError, match="250 MB limit"):
        lambda_build.check_limits(small, 60, allow_s3=True)
    big = lambda_build.Package("wiki", "x.zip", 61 * mb, 200 * mb, 1)
    with pytest.raises(lambda_build.BuildError, match="S3.*--allow-s3"):
        lambda_build.check_limits(big, 0, allow_s3=False)
    assert "S3" in lambda_build.check_limits(big, 0, allow_s3=True)[0]


def test_cli_help() -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["build-lambda", "--help"])
    assert exit_.value.code == 0
    args = build_parser().parse_args(["build-lambda", "--output-dir", "out", "--function", "mcp"])
    assert args.output_dir == "out" and args.function == ["mcp"] and not args.allow_s3


def test_with_mcp_auth_wiki_the_wiki_package_carries_the_mcp_libraries() -> None:
    """mcpAuth=wiki makes the wiki function the authorization server (otterwiki_mcp runs in it);
    the stack refuses a wiki package without the MCP libraries, so the build must add them."""
    root = lambda_build.project_root()

    def names(mcp_auth: str) -> set[str]:
        function = lambda_build.function_for("wiki", mcp_auth)
        return {re.split(r"[<>=\[ ;]", r)[0] for r in lambda_build.requirements(root, function)}

    assert {"fastmcp", "mcp", "a2wsgi"} <= names("wiki")
    for other in ("local", "authkit", "tokens"):
        assert not {"fastmcp", "mcp"} & names(other)
    with pytest.raises(lambda_build.BuildError, match="unknown MCP sign-in"):
        lambda_build.function_for("wiki", "ldap")
    args = build_parser().parse_args(["build-lambda", "--mcp-auth", "wiki"])
    assert args.mcp_auth == "wiki"


ELF_MACHINE = {"x86_64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_dependencies_are_installed_for_the_functions_architecture(
    architecture: str, tmp_path: Path
) -> None:
    """pip takes the wheels of the architecture the stack deploys (real pip, the package index):
    the compiled modules of an arm64 package are AArch64 code, which an x86_64 build would not
    import there."""
    lambda_build.install(str(tmp_path), ["markupsafe==3.0.2"], PYTHON, print, architecture)
    (module,) = (tmp_path / "markupsafe").glob("_speedups*.so")
    header = module.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == ELF_MACHINE[architecture]


def test_the_package_records_the_architecture_it_was_built_for(tmp_path: Path) -> None:
    lambda_build.record_target(str(tmp_path), "3.12", "arm64")
    target = json.loads((tmp_path / lambda_build.TARGET_FILE).read_text())
    assert target == {"runtime": "python3.12", "architecture": "arm64"}
    with pytest.raises(lambda_build.BuildError, match="x86_64 or arm64"):
        lambda_build.build_one("mcp", str(tmp_path), architecture="aarch64")
