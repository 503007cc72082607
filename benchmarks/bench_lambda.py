"""Lambda handlers benchmark: cold start and warm latency of `lambda_init.handler` (Otterwiki with
the REST API) and `lambda_init.mcp_handler` (the MCP app), fed API Gateway payload-2.0 events in
this process exactly as the gateway would, plus the deployment package sizes.

    python benchmarks/bench_lambda.py [--repeat 50] [--cold-runs 5] [--packages build]

Cold start: a fresh Python process imports `lambda_init` and answers its first `GET /Home` event;
timed from just before the process starts to its answer (all plugins, semantic search on Bedrock
as deployed, but no call made to it). Warm: p50/p95 of `GET /Home`, `GET /api/v1/pages/<page>`
and an MCP `tools/call read_note` (the MCP app's HTTP backend reaching the wiki's REST API, served
here on 127.0.0.1 by the same wiki app). Package sizes are read from `--packages` (the output of
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
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_api import machine_info, percentile  # noqa: E402

API_KEY = "bench-lambda-key"
MCP_TOKEN = "bench-lambda-token"
COLD = """
import json, sys, time
t0 = float(sys.argv[1])
import lambda_init
from wikibot.gateway import build_event
from wikibot.routeplan import Route
event = build_event(Route("$default", "wiki", "bench"), "GET", "/Home", [("host", "wiki")], b"")
answer = lambda_init.handler(event, None)
print(json.dumps({"status": answer["statusCode"], "ms": (time.time() - t0) * 1000}))
"""


def environment(data: str) -> dict[str, str]:
    return {
        "REPOSITORY": os.path.join(data, "repository"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data}/otterwiki.db",
        "SECRET_KEY": "bench-secret-key-of-enough-length",
        "WIKIBOT_API_KEY": API_KEY,
        "WIKIBOT_MCP_TOKEN": MCP_TOKEN,
        "WIKIBOT_MCP_AUTH": "tokens",
        "WIKIBOT_SEARCH_EMBEDDER": "bedrock",  # as deployed; never called in this benchmark
        "WIKIBOT_BEDROCK_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }


def cold_starts(env: dict[str, str], runs: int) -> list[float]:
    times = []
    for i in range(runs):
        started = time.time()
        out = subprocess.run(
            [sys.executable, "-c", COLD, repr(started)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        answer = json.loads(out.stdout.strip().splitlines()[-1])
        assert answer["status"] == 200, answer
        times.append(answer["ms"])
        print(f"cold start {i + 1}/{runs}: {answer['ms']:.0f} ms", file=sys.stderr)
    return times


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
            sizes.append((name, os.path.getsize(path) / 1e6, unzipped / 1e6))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="warm samples per measurement")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes for cold start")
    parser.add_argument("--packages", default="build", help="folder with build-lambda's zips")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="wikibot-bench-lambda-")
    env = environment(data)
    os.environ.update(env)
    print("preparing the repository (first start)...", file=sys.stderr)
    cold = cold_starts(env, args.cold_runs + 1)[1:]  # the first one also creates the repository

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
    server = make_server("127.0.0.1", 0, lambda_init.create_wiki_app(), threaded=True)
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
    mcp_headers = [
        ("host", "wiki"),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("authorization", f"Bearer {MCP_TOKEN}"),
    ]

    def read_note() -> None:
        event = build_event(mcp_route, "POST", "/mcp", mcp_headers, json.dumps(call).encode())
        answer = lambda_init.mcp_handler(event, None)
        assert answer["statusCode"] == 200 and "# Bench" in answer["body"], answer

    started = time.perf_counter()
    read_note()
    mcp_cold = (time.perf_counter() - started) * 1000
    rows = [
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
    print(f"{'measurement':<34}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}  target   result")
    p50 = percentile(cold, 50)
    verdict = "PASS" if p50 <= 1000 else "MISS"
    print(
        f"{'cold start to first GET /Home':<34}{len(cold):>4}{p50:>10.1f}"
        f"{percentile(cold, 95):>10.1f}  <= 1000   {verdict}"
    )
    print(f"{'first MCP call (in a warm process)':<34}{1:>4}{mcp_cold:>10.1f}")
    for label, samples, target in rows:
        p50 = percentile(samples, 50)
        verdict = "" if target is None else ("PASS" if p50 <= target else "MISS")
        goal = "" if target is None else f"<= {target:g}"
        print(
            f"{label:<34}{len(samples):>4}{p50:>10.2f}{percentile(samples, 95):>10.2f}"
            f"  {goal:<8} {verdict}"
        )
    sizes = package_sizes(args.packages)
    if sizes:
        print("\npackage                 zipped MB  unzipped MB  target (unzipped, with layers)")
        for name, zipped, unzipped in sizes:
            verdict = "PASS" if unzipped <= 150 else "MISS"
            print(f"{name:<24}{zipped:>9.1f}{unzipped:>13.1f}  <= 150  {verdict}")
    else:
        print(f"\n(no packages in {args.packages}/: run `wikibot build-lambda --allow-s3` first)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
