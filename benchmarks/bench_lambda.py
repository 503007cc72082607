"""Lambda handlers benchmark: cold start and warm latency of `lambda_init.handler` (Otterwiki with
the REST API) and `lambda_init.mcp_handler` (the MCP app), fed API Gateway payload-2.0 events in
this process exactly as the gateway would, plus the deployment package sizes.

    python benchmarks/bench_lambda.py [--repeat 50] [--cold-runs 5] [--packages build]

Cold start: a fresh Python process imports `lambda_init` and answers its first event; timed from
just before the process starts to its answer (all plugins, semantic search on Bedrock as
deployed, but no call made to it). Measured as deployed when `wikibot build-lambda` has written
the zips to `--packages` and a Python of the runtime's version (3.12) is here: the unzipped
package alone on the import path of an isolated interpreter (`-I -S`), with boto3 installed
beside it the way the Lambda runtime provides it (the wiki's first `GET /Home`; the MCP app's
first `initialize`); and always from this checkout's environment, for comparison.

Warm: p50/p95 of `GET /Home`, `GET /api/v1/pages/<page>` and an MCP `tools/call read_note` (the
MCP app's HTTP backend reaching the wiki's REST API, served here on 127.0.0.1 by the same wiki
app), in this process. Package sizes are read from `--packages` (the output of
`wikibot build-lambda`) when the zips are there. Targets on a 2-core machine: cold start ≤ 1.0 s,
warm REST GET ≤ 10 ms p50, unzipped packages with layers ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench_api import Result, machine_info  # noqa: E402

MB = 1024 * 1024  # as Lambda counts its limits (and `wikibot build-lambda` prints sizes)

API_KEY = "bench-lambda-key"
MCP_TOKEN = "bench-lambda-token"
COLD = """
import json, sys, time
t0 = float(sys.argv[1])
sys.path[1:1] = json.loads(sys.argv[4])
import lambda_init
answer = getattr(lambda_init, sys.argv[2])(json.loads(sys.argv[3]), None)
print(json.dumps({"status": answer["statusCode"], "ms": (time.time() - t0) * 1000}))
"""
MCP_HEADERS = [
    ("host", "wiki"),
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
    ("authorization", f"Bearer {MCP_TOKEN}"),
]
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
}


def environment(data: str) -> dict[str, str]:
    return {
        "REPOSITORY": os.path.join(data, "repository"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data}/otterwiki.db",
        "SECRET_KEY": "bench-secret-key-of-enough-length",
        "WIKIBOT_API_KEY": API_KEY,
        "WIKIBOT_MCP_TOKEN": MCP_TOKEN,
        "WIKIBOT_MCP_AUTH": "tokens",
        # "public" (anyone reads): /Home renders its page; the default, "private", would answer
        # the login redirect instead
        "WIKIBOT_ACCESS": "public",
        "WIKIBOT_SEARCH_EMBEDDER": "bedrock",  # as deployed; never called in this benchmark
        "WIKIBOT_BEDROCK_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }


@dataclass
class ColdStart:
    """One way to start a fresh process: its interpreter, flags and import path."""

    label: str
    python: str
    flags: list[str]
    path: list[str]


def first_events() -> dict[str, dict[str, Any]]:
    """Each handler's first event: the wiki's `GET /Home`, the MCP app's `initialize`."""
    from wikibot.gateway import build_event
    from wikibot.routeplan import Route

    initialize = json.dumps(INITIALIZE).encode()
    home = build_event(Route("$default", "wiki", "b"), "GET", "/Home", [("host", "w")], b"")
    mcp = build_event(Route("ANY /mcp", "mcp", "b"), "POST", "/mcp", MCP_HEADERS, initialize)
    return {"handler": home, "mcp_handler": mcp}


def cold_starts(env: dict[str, str], start: ColdStart, handler: str, runs: int) -> list[float]:
    event = json.dumps(first_events()[handler])
    command = [start.python, *start.flags, "-c", COLD]
    times = []
    for i in range(runs):
        started = time.time()
        out = subprocess.run(
            [*command, repr(started), handler, event, json.dumps(start.path)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(f"{start.label}: the cold start failed:\n{out.stderr[-3000:]}")
        answer = json.loads(out.stdout.strip().splitlines()[-1])
        assert answer["status"] == 200, answer
        times.append(answer["ms"])
        progress = f"{start.label} {handler}: cold start {i + 1}/{runs}: {answer['ms']:.0f} ms"
        print(progress, file=sys.stderr)
    return times


def deployed_starts(folder: str, work: str) -> dict[str, ColdStart]:
    """Each built package unzipped, run by the runtime's Python in isolation, boto3 beside it
    (as the Lambda runtime has it); empty without the zips or without such a Python."""
    from wikibot import lambda_build

    python = lambda_build.find_python("3.12")
    zips = {name: os.path.join(folder, f"lambda-{name}.zip") for name in ("wiki", "mcp")}
    if python is None or not all(os.path.isfile(z) for z in zips.values()):
        return {}
    sdk = os.path.join(work, "runtime-sdk")
    print("installing boto3 for Python 3.12 (the runtime's SDK)...", file=sys.stderr)
    subprocess.run(lambda_build.pip_command(sdk, ["boto3"], "3.12"), check=True)
    subprocess.run([python, "-m", "compileall", "-q", sdk], capture_output=True)
    starts = {}
    for name, path in zips.items():
        unzipped = os.path.join(work, name)
        with zipfile.ZipFile(path) as archive:
            archive.extractall(unzipped)
        starts[name] = ColdStart(f"package {name}", python, ["-I", "-S"], [unzipped, sdk])
    return starts


def timed(call: Any, repeat: int) -> list[float]:
    call()  # warm this path once
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def package_sizes(folder: str) -> list[tuple[str, float, float]]:
    sizes = []
    for name in ("lambda-wiki.zip", "lambda-mcp.zip"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with zipfile.ZipFile(path) as z:
                unzipped = sum(i.file_size for i in z.infolist())
            sizes.append((name, os.path.getsize(path) / MB, unzipped / MB))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="warm samples per measurement")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes for cold start")
    parser.add_argument("--packages", default="build", help="folder with build-lambda's zips")
    parser.add_argument(
        "--layers-mb",
        type=float,
        default=0,
        help="unzipped size of the wiki function's layers (the git layer), counted in its total",
    )
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="wikibot-bench-lambda-")
    env = environment(data)
    os.environ.update(env)
    venv = ColdStart("venv", sys.executable, [], [ROOT])
    print("preparing the repository (first start)...", file=sys.stderr)
    cold_starts(env, venv, "handler", 1)  # the first start also creates the repository
    cold = {"wiki, this venv": cold_starts(env, venv, "handler", args.cold_runs)}
    deployed = deployed_starts(args.packages, data)
    if deployed:
        cold["wiki package (deployed)"] = cold_starts(
            env, deployed["wiki"], "handler", args.cold_runs
        )
        unused = {**env, "WIKIBOT_API_URL": "http://127.0.0.1:9"}  # initialize never calls it
        cold["MCP package (deployed)"] = cold_starts(
            unused, deployed["mcp"], "mcp_handler", args.cold_runs
        )

    from werkzeug.serving import make_server

    import lambda_init
    from wikibot.gateway import build_event
    from wikibot.routeplan import Route

    wiki_route, mcp_route = Route("$default", "wiki", "bench"), Route("ANY /mcp", "mcp", "bench")
    auth = [("host", "wiki"), ("authorization", f"Bearer {API_KEY}")]
    lambda_init.handler(
        build_event(wiki_route, "PUT", "/api/v1/pages/Bench", auth, b'{"content": "# Bench"}'),
        None,
    )
    from otterwiki.server import app  # built by the handler's first event above

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["WIKIBOT_API_URL"] = f"http://127.0.0.1:{server.server_port}"

    def wiki(method: str, target: str, headers: list[tuple[str, str]]) -> Any:
        answer = lambda_init.handler(build_event(wiki_route, method, target, headers, b""), None)
        assert answer["statusCode"] == 200, answer
        return answer

    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "read_note", "arguments": {"path": "Bench"}},
    }

    def read_note() -> None:
        event = build_event(mcp_route, "POST", "/mcp", MCP_HEADERS, json.dumps(call).encode())
        answer = lambda_init.mcp_handler(event, None)
        assert answer["statusCode"] == 200 and "# Bench" in answer["body"], answer

    started = time.perf_counter()
    read_note()
    mcp_cold = (time.perf_counter() - started) * 1000
    warm = [
        (
            "GET /Home (wiki HTML)",
            timed(lambda: wiki("GET", "/Home", [("host", "wiki")]), args.repeat),
            None,
        ),
        (
            "GET /api/v1/pages/Bench",
            timed(lambda: wiki("GET", "/api/v1/pages/Bench", auth), args.repeat),
            10.0,
        ),
        ("MCP read_note via mcp_handler", timed(read_note, args.repeat), None),
    ]
    server.shutdown()

    info = machine_info()
    print("wikibot Lambda handlers benchmark")
    for key, value in info.items():
        print(f"{key:<10} {value}")
    print("method     payload-2.0 events fed to lambda_init's handlers in this process (warm)")
    print("           and to a fresh process per cold start; no AWS involved\n")
    print(f"{'measurement':<36}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}  target   result")
    first_mcp = ("first MCP call (in a warm process)", [mcp_cold], None)
    starts = [(f"cold start, {k}", v, 1000.0 if k[:4] == "wiki" else None) for k, v in cold.items()]
    rows = [*starts, first_mcp, *warm]
    for result in (Result(*row) for row in rows):
        goal = "" if result.target_ms is None else f"<= {result.target_ms:g}"
        print(
            f"{result.name:<36}{len(result.samples):>4}{result.p50:>10.2f}{result.p95:>10.2f}"
            f"  {goal:<8} {result.verdict}"
        )
    if not deployed:
        print(
            f"(no cold start of the packages: needs build-lambda's zips in {args.packages}/ "
            "and a python3.12 here)"
        )
    sizes = package_sizes(args.packages)
    if sizes:
        print(f"\nsizes in MB of 2^20 bytes; the wiki's layers (git): {args.layers_mb:g} MB")
        print("package                 zipped MB  unzipped MB  with layers  target   result")
        for name, zipped, unzipped in sizes:
            total = unzipped + (args.layers_mb if name == "lambda-wiki.zip" else 0)
            verdict = "PASS" if total <= 150 else "MISS"
            print(f"{name:<24}{zipped:>9.1f}{unzipped:>13.1f}{total:>13.1f}  <= 150   {verdict}")
    else:
        print(f"\n(no packages in {args.packages}/: run `wikibot build-lambda --allow-s3` first)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
